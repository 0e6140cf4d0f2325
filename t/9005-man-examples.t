#!/bin/bash
test_description='every srdf-* command line in the EXAMPLES of the man pages parses: run against files made for it, none exits 64 (usage) or complains of an option'
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed"

# extract.py PAGE...: one line per srdf-* command of the EXAMPLES
# sections' literal blocks: "PAGE<TAB>argv as JSON".  Roff escapes are
# undone, continued lines (a trailing backslash, |, && or ||) joined,
# prompts ("$ ", "# ", cron's five fields) dropped; a line is split into
# commands at | && || ; & ( ), and redirections are left out.  $g in
# srdf(7) is the GTID its previous line reads.
cat >extract.py <<'EOF'
import json, re, shlex, sys
ops = {'|', '||', '&&', ';', '&', '(', ')'}
redir = {'>', '<', '>>', '2>', '>&', '2>&'}
values = {'$g': '0-1-1'}
for page in sys.argv[1:]:
    name = page.rsplit('/', 1)[-1]
    lines, ex, lit = [], False, False
    for l in open(page, encoding='utf-8'):
        l = l.rstrip('\n')
        if l.startswith('.Sh '):
            ex = l == '.Sh EXAMPLES'
            continue
        if not ex:
            continue
        if l.startswith('.Bd'):
            lit = True
            continue
        if l.startswith('.Ed'):
            lit = False
            continue
        if lit:
            lines.append(l.replace('\\e', '\\').replace('\\&', '').replace('\\-', '-'))
    cmds, cur = [], ''
    for l in lines:
        cur = (cur + ' ' + l.strip()) if cur else l
        if cur.endswith('\\'):
            cur = cur[:-1].rstrip()
            continue
        if re.search(r'(\||&&|\|\|)\s*$', cur):
            continue
        cmds.append(cur)
        cur = ''
    for c in cmds:
        c = re.sub(r'^\s*([$#]|(\S+\s+){5}(?=srdf-))\s*', '', c) if re.match(r'^\s*([$#]\s|\*)', c) else c
        try:
            lex = shlex.shlex(c, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            toks = list(lex)
        except ValueError:
            continue
        argv, i = None, 0
        while i <= len(toks):
            t = toks[i] if i < len(toks) else ';'
            if t in ops or i == len(toks):
                if argv:
                    print(name + '\t' + json.dumps(argv))
                argv = None
            elif t in redir or re.fullmatch(r'\d?[<>]+&?', t):
                i += 1
            elif argv is None:
                if re.fullmatch(r'srdf-[a-z]+', t):
                    argv = [t]
                elif re.fullmatch(r'[A-Za-z_]+=.*', t):
                    pass
                else:
                    argv = False
            elif argv is not False:
                argv.append(values.get(t, t))
            i += 1
EOF

# rewrite.py ROOT: the commands of stdin with their paths under ROOT,
# their listeners on 127.0.0.1:0 and their peers at 127.0.0.1:9 (a
# closed port), as "PAGE<TAB>argv as JSON"; and, on fd 3, the files to
# make: "key PATH", "tls CERT KEY", "ca PATH", "cnf PATH", "dir PATH",
# "state PATH" (a state directory).
cat >rewrite.py <<'EOF'
import json, os, re, sys
root = sys.argv[1]
make = os.fdopen(3, 'w')
def path(p):
    if p.startswith('/'):
        return root + p
    return p
for l in sys.stdin:
    page, a = l.rstrip('\n').split('\t')
    argv = json.loads(a)
    out = [argv[0]]
    i = 1
    while i < len(argv):
        o = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if o in ('--key-file', '--ca-file', '--defaults-file', '--source',
                 '--target', '--dir', '--cert', '--tls-key', '-o', '--import') and v is not None:
            v = path(v)
            kind = {'--key-file': 'key', '-o': 'none', '--ca-file': 'ca',
                    '--defaults-file': 'cnf', '--source': 'cnf', '--target': 'cnf',
                    '--dir': 'state', '--import': 'dir'}.get(o)
            if kind and kind != 'none':
                print(kind, v, file=make)
            out += [o, v]
            i += 2
            continue
        if o == '--listen' and v is not None:
            out += [o, '127.0.0.1:0']
            i += 2
            continue
        if o in ('--to', '--ack-to') and v is not None:
            if v.startswith('dir:'):
                v = 'dir:' + path(v[4:])
                print('dir', v[4:], file=make)
            else:
                v = re.sub(r'^(https?://)[^/]*', r'\g<1>127.0.0.1:9', v)
            out += [o, v]
            i += 2
            continue
        if o.startswith('/'):
            o = path(o)
        out.append(o)
        i += 1
    for j, o in enumerate(out):
        if o == '--cert':
            k = out[out.index('--tls-key') + 1] if '--tls-key' in out else None
            print('tls', out[j + 1], k, file=make)
    print(page + '\t' + json.dumps(out))
EOF

test_expect_success 'the EXAMPLES hold srdf-* command lines of every kind' '
	python3 extract.py "$top"/man/*.[1-9] >cmds &&
	cat cmds &&
	test "$(wc -l <cmds)" -ge 30 &&
	for t in ackd apply bootstrap capture cat dedup keygen promote recv seal ship status verify; do
		grep -q "\[\"srdf-$t\"" cmds || { echo "no example runs srdf-$t"; return 1; }
	done &&
	grep -q "^srdf.7	\[\"srdf-recv\".*\"--cert\"" cmds &&
	grep -q "^srdf.7	\[\"srdf-ship\".*\"--key-file\"" cmds
'

# A command without --dir uses SRDF_DIR, never the host's /var/lib/srdf.
export SRDF_DIR=$PWD/root/var/lib/srdf

# seed DIR: a state directory as the examples find it once the source
# pipeline ran: one sealed wagon, so srdf-capture has a start position.
seed() {
	test -d "$1/ledger" && return 0
	mkdir -p "$1" &&
	printf '%s\n' \
		'{"v":1,"type":"begin","gtid":"0-1-1","server_id":1,"ts":1,"file":"b.1","pos":4}' \
		'{"v":1,"type":"insert","db":"d","table":"t","pk":["id"],"after":{"id":1}}' \
		'{"v":1,"type":"commit","gtid":"0-1-1","ts":1,"file":"b.1","pos":9,"xid":1}' |
		srdf-dedup 2>/dev/null | srdf-seal --dir "$1" --key-file key.master 2>seal.err ||
		{ cat seal.err; return 1; }
}

test_expect_success 'their files: keys, certificates, option files, state directories' '
	python3 rewrite.py "$PWD/root" <cmds >run 3>make &&
	sort -u make >make.u &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout tls.key -out tls.crt >/dev/null 2>&1 &&
	srdf-keygen -o key.master 2>/dev/null &&
	mkdir -p "$SRDF_DIR" &&
	while read -r kind p k; do
		mkdir -p "$(dirname "$p")" &&
		case $kind in
		key) cp key.master "$p" && chmod 600 "$p" ;;
		ca) cp tls.crt "$p" ;;
		tls) cp tls.crt "$p" && { test -z "$k" || { mkdir -p "$(dirname "$k")" && cp tls.key "$k" && chmod 600 "$k"; }; } ;;
		cnf) printf "[client]\nsocket=%s/no.sock\nuser=srdf\n" "$PWD" >"$p" && chmod 600 "$p" ;;
		dir) mkdir -p "$p" ;;
		state) seed "$p" ;;
		esac || return 1
	done <make.u &&
	seed "$SRDF_DIR" &&
	test -s run
'

# parses PAGE ARGV-JSON: run it (3 s at most, stdin empty) and say
# whether its options parsed: not exit 64, nothing said of an option.
parses() {
	local page=$1 argv
	mapfile -t argv < <(jq -r ".[]" <<<"$2") &&
	timeout -k 2 3 "${argv[@]}" </dev/null >out.last 2>err.last
	local rc=$?
	if [ $rc = 64 ] || grep -Eqi "unrecognized option|unknown option|invalid option|bad --|^usage:" err.last; then
		echo "$page: exit $rc: ${argv[*]}"
		sed "s/^/    /" err.last
		return 1
	fi
	echo "$page: exit $rc: ${argv[0]}"
}

test_expect_success 'the checker catches an unknown option and a missing required one' '
	! parses test "[\"srdf-ship\",\"--dir\",\"d\",\"--to\",\"dir:x\",\"--bogus\"]" &&
	! parses test "[\"srdf-recv\",\"--dir\",\"d\",\"--key-file\",\"key.master\",\"--listen\",\"127.0.0.1:0\"]" &&
	! parses test "[\"srdf-dedup\",\"--window\",\"soon\"]"
'

test_expect_success 'every example line parses' '
	fails=0 &&
	while IFS="	" read -r page argv; do
		parses "$page" "$argv" || fails=$((fails + 1))
	done <run &&
	test "$fails" = 0
'

test_done
