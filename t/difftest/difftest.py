# t/difftest/difftest.py — the seeded random differential tester of the
# whole srdf pipeline.  Run it through t/difftest/run (Debian's
# /usr/bin/python3 with python3-pymysql); t/difftest/README says how.
#
# One run starts one server pair (t/srdf-servers) and runs every seed on
# it, each in its own database dt<seed> and its own srdf state
# directories; between seeds the databases and the target's srdf schema
# are dropped (the source's drops are not binlogged).

import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen as genmod  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, '..', '..'))
ENV = dict(os.environ)
ENV['PATH'] = '%s/bin:%s/t/helpers:%s' % (TOP, TOP, ENV.get('PATH', ''))
ENV['LC_ALL'] = 'C'
ENV['TZ'] = 'UTC'

VERBOSE = False


def log(msg):
    if VERBOSE:
        print('# ' + msg, flush=True)


class Failure(Exception):
    def __init__(self, kind, msg, details=()):
        Exception.__init__(self, '%s: %s' % (kind, msg))
        self.kind = kind
        self.msg = msg
        self.details = list(details)


# ---- servers ---------------------------------------------------------

class Servers:
    def __init__(self, keep=False, existing=None):
        self.keep = keep
        self.ours = existing is None
        self.dir = existing or tempfile.mkdtemp(prefix='srdf-dt.', dir='/tmp')
        r = subprocess.run(['true']) if existing else subprocess.run([os.path.join(TOP, 't', 'srdf-servers'), 'start', self.dir],
                           env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout)
            raise SystemExit('difftest: cannot start the servers')
        self.env = {}
        for line in open(os.path.join(self.dir, 'env')):
            m = re.match(r'^([A-Z_]+)=(.*)$', line.strip())
            if m:
                self.env[m.group(1)] = m.group(2)

    def stop(self):
        if self.dir and self.ours:
            args = [os.path.join(TOP, 't', 'srdf-servers'), 'stop']
            if self.keep:
                args.append('--keep')
            subprocess.run(args + [self.dir], env=ENV, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.dir = None

    def conn(self, role, db=None):
        sock = self.env['SRC_SOCK' if role == 'src' else 'DST_SOCK']
        return pymysql.connect(unix_socket=sock, user='root', charset='utf8mb4',
                               autocommit=True, database=db)


def q1(conn, sql):
    with conn.cursor() as c:
        c.execute(sql)
        r = c.fetchone()
        return r[0] if r else None


def qall(conn, sql):
    with conn.cursor() as c:
        c.execute(sql)
        return c.fetchall()


# ---- processes -------------------------------------------------------

def run(args, cwd, name, check=True, timeout=300):
    """Runs a tool, stderr appended to NAME.err; returns its exit status."""
    with open(os.path.join(cwd, name + '.err'), 'ab') as err:
        r = subprocess.run(args, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err, timeout=timeout)
    return r.returncode


def tail(path, n=15):
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip('\n') for l in f.readlines()[-n:]]
    except OSError:
        return []


def start_chain(w, dedup_opts, until_end=False, tag=''):
    """capture | dedup | seal; returns the three Popen objects."""
    cap_args = ['srdf-capture', '--defaults-file', w.srv.env['SRC_CNF'],
                '--dir', w.S]
    cap_args += ['--until-end'] if until_end else ['--heartbeat', '1']
    ferr = lambda n: open(os.path.join(w.dir, n + '.err'), 'ab')  # noqa: E731
    cap = subprocess.Popen(cap_args, cwd=w.dir, env=ENV, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=ferr('capture'))
    ded = subprocess.Popen(['srdf-dedup'] + dedup_opts, cwd=w.dir, env=ENV,
                           stdin=cap.stdout, stdout=subprocess.PIPE,
                           stderr=ferr('dedup'))
    cap.stdout.close()
    seal = subprocess.Popen(['srdf-seal', '--dir', w.S, '--key-file', w.key],
                            cwd=w.dir, env=ENV, stdin=ded.stdout,
                            stdout=subprocess.DEVNULL, stderr=ferr('seal'))
    ded.stdout.close()
    return [cap, ded, seal]


def seal_pass(w, dedup_opts):
    procs = start_chain(w, dedup_opts, until_end=True)
    codes = [p.wait(timeout=300) for p in procs]
    if codes != [0, 0, 0]:
        raise Failure('pipeline', 'capture | dedup | seal exited %s' % codes,
                      ['capture.err: ' + l for l in tail(os.path.join(w.dir, 'capture.err'))] +
                      ['dedup.err: ' + l for l in tail(os.path.join(w.dir, 'dedup.err'))] +
                      ['seal.err: ' + l for l in tail(os.path.join(w.dir, 'seal.err'))])


def listening(path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            for line in open(path, errors='replace'):
                m = re.search(r'listening on (https?://[0-9.]+:[0-9]+)', line)
                if m:
                    return m.group(1)
        except OSError:
            pass
        time.sleep(0.05)
    raise Failure('pipeline', 'no "listening on" in ' + os.path.basename(path),
                  tail(path))


def free_port():
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def kill9(p):
    try:
        p.kill()
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def term(p, timeout=15):
    if p.poll() is not None:
        return p.returncode
    p.terminate()
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill9(p)
        return -9


# ---- the script of a seed: what the source executed -------------------

class Script:
    """The record of a seed: a header, then units (lists of statements,
    each with the source's answer) and pipeline markers."""

    def __init__(self, path, header):
        self.path = path
        self.header = header
        self.items = []
        self.f = open(path, 'w')
        self.f.write(json.dumps(header) + '\n')
        self.lock = threading.Lock()

    def add(self, item):
        with self.lock:
            self.items.append(item)
            self.f.write(json.dumps(item, ensure_ascii=False) + '\n')
            self.f.flush()

    def close(self):
        self.f.close()

    @staticmethod
    def load(path):
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        return lines[0], lines[1:]


def exec_unit(conn, stmts, script, phase=None):
    """Executes one unit on the source, each statement on its own, errors
    ignored; records it.  Returns True if every statement succeeded."""
    res = []
    c = conn.cursor()
    done = list(stmts)
    for s in stmts:
        try:
            c.execute(s)
            c.fetchall()
            res.append(0)
        except pymysql.err.MySQLError as e:
            res.append(e.args[0] if e.args else -1)
    # Leave the connection clean: an XA or transaction cut by an error.
    if any(res):
        first = stmts[0] if stmts else ''
        cleanup = []
        if first.startswith('XA START'):
            x = first[len('XA START '):]
            cleanup = ['XA END ' + x, 'XA ROLLBACK ' + x]
        elif first == 'BEGIN':
            cleanup = ['ROLLBACK']
        if any(s.startswith('SET SESSION sql_mode') for s in stmts):
            cleanup.append('SET SESSION sql_mode = DEFAULT')
        for s in cleanup:
            try:
                c.execute(s)
                res.append(0)
            except pymysql.err.MySQLError as e:
                res.append(e.args[0] if e.args else -1)
            done.append(s)
    c.close()
    item = {'unit': done, 'err': res}
    if phase:
        item['phase'] = phase
    if script is not None:
        script.add(item)
    return not any(res[:len(stmts)])


# ---- comparison --------------------------------------------------------

def table_list(conn, db):
    return {r[0]: r[1] for r in qall(conn,
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = '%s'" % db)}


def columns(conn, db, t, versioned):
    cols = [r[0] for r in qall(conn,
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
            "'%s' AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION" % (db, t.replace("'", "''")))]
    if versioned:
        period = set(r[0] for r in qall(conn,
                     "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                     "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' AND EXTRA LIKE "
                     "'%%ROW %%'" % (db, t)))
        period |= {'ROW_START', 'ROW_END', 'row_start', 'row_end'}
        cols = [c for c in cols if c not in period]
    return cols


def fetch_rows(conn, db, t, cols, history=False):
    sel = ', '.join('`%s`' % c for c in cols)
    if not sel:
        return collections.Counter()
    # Text as its bytes: the comparison must see 'a' and 'A' apart.
    sel = ', '.join('IF(`%s` IS NULL, NULL, HEX(CAST(`%s` AS BINARY)))' % (c, c)
                    for c in cols)
    src = '`%s`.`%s`' % (db, t)
    if history:
        src += ' FOR SYSTEM_TIME ALL'
    return collections.Counter(qall(conn, 'SELECT %s FROM %s' % (sel, src)))


def unhex_row(cols, row):
    out = []
    for c, v in zip(cols, row):
        if v is None:
            out.append('%s=NULL' % c)
            continue
        b = bytes.fromhex(v)
        try:
            s = b.decode('utf-8')
            if all(ch.isprintable() for ch in s):
                out.append('%s=%r' % (c, s))
                continue
        except UnicodeDecodeError:
            pass
        out.append('%s=0x%s' % (c, v))
    return '(' + ', '.join(out) + ')'


def row_diff(src, dst, db, t, cols, history=False, limit=10):
    a = fetch_rows(src, db, t, cols, history)
    b = fetch_rows(dst, db, t, cols, history)
    only_s = list((a - b).elements())
    only_d = list((b - a).elements())
    out = []
    what = ' (history included)' if history else ''
    out.append('%s.%s%s: %d rows on the source, %d on the target; %d only on the '
               'source, %d only on the target' % (db, t, what, sum(a.values()),
                                                  sum(b.values()), len(only_s),
                                                  len(only_d)))
    for r in only_s[:limit]:
        out.append('  only on source: ' + unhex_row(cols, r))
    for r in only_d[:limit]:
        out.append('  only on target: ' + unhex_row(cols, r))
    return (only_s or only_d), out


def stale_generated(src, dst, db, t, versioned=False, history=False):
    """When every difference of table t is in STORED generated columns
    whose value on the source contradicts their own expression (a MariaDB
    bug: a multi-table UPDATE whose BEFORE UPDATE trigger changes a base
    column leaves the stored value computed before the trigger, on all
    rows but the first; the target, like a native replica, computes it):
    the number of such source rows.  Else 0."""
    gens = qall(src, "SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM "
                "information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s' AND "
                "TABLE_NAME = '%s' AND EXTRA = 'STORED GENERATED'" % (db, t))
    if not gens:
        return 0
    bad = ' OR '.join('NOT (`%s` <=> (%s))' % (c, e) for c, e in gens)
    stale = q1(src, 'SELECT COUNT(*) FROM `%s`.`%s` WHERE %s' % (db, t, bad))
    if not stale or q1(dst, 'SELECT COUNT(*) FROM `%s`.`%s` WHERE %s' % (db, t, bad)):
        return 0
    cols = [c for c in columns(src, db, t, versioned) if c not in [g[0] for g in gens]]
    diff, _ = row_diff(src, dst, db, t, cols)
    if not diff and history:
        diff, _ = row_diff(src, dst, db, t, cols, history=True)
    return 0 if diff else int(stale)


def checksum(conn, db, t):
    try:
        r = qall(conn, 'CHECKSUM TABLE `%s`.`%s`' % (db, t))
        return r[0][1] if r else None
    except pymysql.err.MySQLError as e:
        return 'error %s' % e.args[0]


def run_verify(w, extra=()):
    p = subprocess.run(['srdf-verify', '--source', w.srv.env['SRC_CNF'], '--target',
                        w.srv.env['DST_CNF'], '--databases', w.db, '--json',
                        '--wait-seconds', '5'] + list(extra),
                       cwd=w.dir, env=ENV, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=300)
    with open(os.path.join(w.dir, 'verify.json'), 'w') as f:
        f.write(p.stdout)
    with open(os.path.join(w.dir, 'verify.err'), 'a') as f:
        f.write(p.stderr)
    try:
        doc = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr


def compare(w, history=False):
    """CHECKSUM TABLE of every table and srdf-verify; raises Failure with
    the differing rows."""
    src, dst = w.srv.conn('src'), w.srv.conn('dst')
    problems, details = [], []
    try:
        ts, td = table_list(src, w.db), table_list(dst, w.db)
        for t in sorted(set(ts) - set(td)):
            problems.append('table %s.%s missing on the target' % (w.db, t))
        for t in sorted(set(td) - set(ts)):
            problems.append('table %s.%s only on the target' % (w.db, t))
        differing, excused = set(), set()
        for t in sorted(set(ts) & set(td)):
            if ts[t] == 'VIEW':
                continue
            versioned = ts[t] == 'SYSTEM VERSIONED'
            if versioned or ts[t] == 'SEQUENCE':
                cols = columns(src, w.db, t, True)
                diff, lines = row_diff(src, dst, w.db, t, cols)
                if diff:
                    problems.append('%s.%s: current rows differ' % (w.db, t))
                    details += lines
                    differing.add(t)
                if versioned and history:
                    diff, lines = row_diff(src, dst, w.db, t, cols, history=True)
                    if diff:
                        problems.append('%s.%s: system-versioned history differs'
                                        % (w.db, t))
                        details += lines
                        differing.add(t)
                continue
            virt = [r[0] for r in qall(src, "SELECT COLUMN_NAME FROM "
                    "information_schema.COLUMNS WHERE TABLE_SCHEMA = '%s' AND "
                    "TABLE_NAME = '%s' AND EXTRA LIKE '%%VIRTUAL%%'" % (w.db, t))]
            if virt:
                # CHECKSUM TABLE of a table with VIRTUAL columns changes
                # from one call to the next (MariaDB 10.11 reads the
                # uncomputed column's buffer): compare the rows' bytes.
                cols = [c for c in columns(src, w.db, t, False) if c not in virt]
                if cols != [c for c in columns(dst, w.db, t, False) if c not in virt]:
                    problems.append('%s.%s: columns differ' % (w.db, t))
                    differing.add(t)
                    continue
                diff, lines = row_diff(src, dst, w.db, t, cols)
                if diff:
                    problems.append('%s.%s: rows differ' % (w.db, t))
                    details += lines
                    differing.add(t)
                continue
            cs, cd = checksum(src, w.db, t), checksum(dst, w.db, t)
            if cs != cd:
                problems.append('%s.%s: CHECKSUM TABLE source %s target %s'
                                % (w.db, t, cs, cd))
                differing.add(t)
                try:
                    cols = columns(src, w.db, t, False)
                    colsd = columns(dst, w.db, t, False)
                    if cols != colsd:
                        details.append('%s.%s: columns differ: source %s target %s'
                                       % (w.db, t, cols, colsd))
                    else:
                        diff, lines = row_diff(src, dst, w.db, t, cols)
                        engine = q1(src, "SELECT ENGINE FROM information_schema.TABLES "
                                    "WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s'"
                                    % (w.db, t))
                        if not diff and engine in ('MyISAM', 'Aria'):
                            # CHECKSUM TABLE of MyISAM and Aria reads bytes
                            # of the row buffer that no column shows (seen
                            # with VIRTUAL columns and BLOBs): not a
                            # difference when every column's bytes agree.
                            problems.pop()
                            differing.discard(t)
                            log('%s.%s: CHECKSUM TABLE differs, rows equal (%s)'
                                % (w.db, t, engine))
                        details += lines
                except pymysql.err.MySQLError as e:
                    details.append('%s.%s: cannot list rows: %s' % (w.db, t, e))
        for t in sorted(differing):
            versioned = ts.get(t) == 'SYSTEM VERSIONED'
            n = stale_generated(src, dst, w.db, t, versioned, history and versioned) \
                if ts.get(t) in ('BASE TABLE', 'SYSTEM VERSIONED') else 0
            if n:
                print('# seed %s: %s.%s: %d source rows whose STORED generated column '
                    'contradicts its expression (MariaDB: multi-table UPDATE with a '
                    'BEFORE UPDATE trigger); the target computes it; counted as '
                    'source-inconsistent, not as a divergence' % (w.seed, w.db, t, n), flush=True)
                w.source_inconsistent = getattr(w, 'source_inconsistent', 0) + 1
                excused.add(t)
        if excused:
            problems = [p for p in problems
                        if not any(p.startswith('%s.%s:' % (w.db, t)) for t in excused)]
            differing -= excused
        rc, doc, err = run_verify(w)
        if rc not in (0, 1) or doc is None:
            problems.append('srdf-verify exited %d' % rc)
            details += ['verify: ' + l for l in err.splitlines()[-10:]]
        else:
            vt = {}
            for t in doc.get('tables', []):
                if t.get('db') == w.db and t.get('status') != 'equal':
                    vt[t['table']] = t
            for o in doc.get('objects', []):
                problems.append('srdf-verify: %s %s.%s %s' % (o.get('type'), o.get('db'),
                                                            o.get('name'), o.get('status')))
            for t in doc.get('extra_tables_on_target', []):
                problems.append('srdf-verify: extra table on the target: %s' % (t,))
            for name, t in sorted(vt.items()):
                if name in differing or name in excused:
                    continue
                problems.append('srdf-verify: %s.%s %s%s' % (
                    w.db, name, t.get('status'),
                    (' (%s)' % (t.get('problem') or t.get('indexes') or ''))
                    if t.get('status') == 'definition' else ''))
                details.append('srdf-verify on %s: %s' % (name, json.dumps(t)[:600]))
            for name in sorted(differing):
                if name not in vt and ts.get(name) == 'BASE TABLE':
                    problems.append('srdf-verify MISSED %s.%s, whose checksums differ'
                                    % (w.db, name))
    finally:
        src.close()
        dst.close()
    if problems:
        raise Failure('diff', '; '.join(problems), details)


# ---- one seed ------------------------------------------------------------

KNOWN_FEATURES = list(genmod.FEATURES)


class Work:
    pass


def reset(srv, db):
    for role in ('src', 'dst'):
        c = srv.conn(role)
        try:
            if role == 'src':
                qall(c, 'SET SESSION sql_log_bin = 0')
                for (xid,) in [(r[3],) for r in qall(c, 'XA RECOVER')]:
                    try:
                        qall(c, "XA ROLLBACK '%s'" % xid.decode() if isinstance(xid, bytes)
                             else "XA ROLLBACK '%s'" % xid)
                    except pymysql.err.MySQLError:
                        pass
            qall(c, 'DROP DATABASE IF EXISTS `%s`' % db)
            if role == 'dst':
                qall(c, 'DROP DATABASE IF EXISTS srdf')
        finally:
            c.close()


def setup_work(srv, seed, mode, base, ops):
    w = Work()
    w.srv = srv
    w.seed = seed
    w.mode = mode
    w.db = 'dt%d' % seed
    w.dir = os.path.join(base, 'seed-%d-%s' % (seed, mode))
    shutil.rmtree(w.dir, ignore_errors=True)
    os.makedirs(w.dir)
    w.S = os.path.join(w.dir, 'src')
    w.D = os.path.join(w.dir, 'dst')
    os.makedirs(w.S)
    os.makedirs(w.D)
    w.key = os.path.join(w.dir, 'key')
    if run(['srdf-keygen', '-o', w.key], w.dir, 'keygen') != 0:
        raise Failure('pipeline', 'srdf-keygen failed')
    reset(srv, w.db)
    return w


def set_start(w):
    c = w.srv.conn('src')
    pos = q1(c, 'SELECT @@gtid_binlog_pos')
    c.close()
    if run(['ledger-meta', w.S, 'bootstrap_gtid', pos or ''], w.dir, 'ledger') != 0:
        raise Failure('pipeline', 'ledger-meta failed')


def ship_and_apply(w, transport, apply_opts):
    xfer = os.path.join(w.dir, 'xfer')
    if transport == 'dir':
        os.makedirs(xfer, exist_ok=True)
        rc = run(['srdf-ship', '--dir', w.S, '--to', 'dir:' + xfer, '--once'], w.dir, 'ship')
        if rc != 0:
            raise Failure('pipeline', 'srdf-ship --to dir: exited %d' % rc,
                          tail(os.path.join(w.dir, 'ship.err')))
        rc = run(['srdf-recv', '--dir', w.D, '--key-file', w.key, '--import', xfer],
                 w.dir, 'recv')
        if rc != 0:
            raise Failure('pipeline', 'srdf-recv --import exited %d' % rc,
                          tail(os.path.join(w.dir, 'recv.err')))
    else:
        errf = open(os.path.join(w.dir, 'recv.err'), 'ab')
        recv = subprocess.Popen(['srdf-recv', '--dir', w.D, '--key-file', w.key,
                                 '--listen', '127.0.0.1:0', '--insecure'], cwd=w.dir,
                                env=ENV, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errf)
        try:
            url = listening(os.path.join(w.dir, 'recv.err'))
            rc = 75
            for i in range(20):
                rc = run(['srdf-ship', '--dir', w.S, '--to', url, '--key-file', w.key,
                          '--insecure', '--once', '--retry', '100ms'], w.dir, 'ship')
                if rc != 75:
                    break
                time.sleep(0.2)
            if rc != 0:
                raise Failure('pipeline', 'srdf-ship over HTTP exited %d' % rc,
                              tail(os.path.join(w.dir, 'ship.err')))
        finally:
            term(recv)
    rc = run(['srdf-apply', '--dir', w.D, '--key-file', w.key, '--defaults-file',
              w.srv.env['DST_CNF'], '--once'] + apply_opts, w.dir, 'apply')
    if rc != 0:
        raise Failure('apply', 'srdf-apply --once exited %d' % rc,
                      tail(os.path.join(w.dir, 'apply.err')))


def check_caught_up(w):
    s, d = w.srv.conn('src'), w.srv.conn('dst')
    try:
        want = q1(s, 'SELECT @@gtid_binlog_pos')
        try:
            got = q1(d, 'SELECT gtid_pos FROM srdf.applied')
        except pymysql.err.MySQLError:
            got = None
    finally:
        s.close()
        d.close()
    return want, got


def pipeline_opts(ops, mode):
    """The pipeline's own random choices (ops, not the generator's rng)."""
    o = {}
    o['dedup'] = ops.choice([['--window', '1h'], [], ['--window', '1h', '--max-bytes',
                                                      '16K'],
                             ['--max-events', '20'], ['--window', '1h']])
    o['transport'] = ops.choice(['dir', 'http'])
    o['apply'] = ops.choice([[], [], ['--parallel', '1'], ['--no-bulk-load']])
    o['passes'] = ops.choice([1, 2, 3])
    if mode == 'b':
        o['window'] = ops.choice(['100ms', '100ms', '5s'])
    return o


def workload_units(g, n):
    for i in range(n):
        yield g.unit()


def run_units(conn, g, n, script, phase=None, pause=0.0):
    for i in range(n):
        stmts, ok = g.unit()
        if exec_unit(conn, stmts, script, phase) and ok:
            ok()
        if pause:
            time.sleep(pause)


def mode_a(w, g, o, script, nunits):
    src = w.srv.conn('src')
    try:
        set_start(w)
        for u in g.schema_units(w.db):
            exec_unit(src, u, script)
            qall(src, 'USE `%s`' % w.db) if u[0].startswith('CREATE DATABASE') else None
        for u in g.seed_rows():
            exec_unit(src, u, script)
        per = max(1, nunits // o['passes'])
        left = nunits
        while left > 0:
            k = min(per, left)
            run_units(src, g, k, script)
            left -= k
            script.add({'seal': True})
            seal_pass(w, o['dedup'])
    finally:
        src.close()
    finish_a(w, o)


def finish_a(w, o):
    """Mode a's end: ship, apply --once, and the target must have caught up."""
    ship_and_apply(w, o['transport'], o['apply'])
    want, got = check_caught_up(w)
    if want != got:
        raise Failure('apply', 'target at %s, source at %s after srdf-apply --once'
                      % (got, want), tail(os.path.join(w.dir, 'apply.err')))


def replay_a(w, items, o):
    """Mode a on a recorded script."""
    set_start(w)
    src = w.srv.conn('src')
    try:
        for it in items:
            if it.get('seal'):
                seal_pass(w, o['dedup'])
            elif 'unit' in it:
                exec_unit(src, it['unit'], None)
                if it['unit'] and it['unit'][0].startswith('CREATE DATABASE'):
                    try:
                        qall(src, 'USE `%s`' % w.db)
                    except pymysql.err.MySQLError:
                        pass
        seal_pass(w, o['dedup'])
    finally:
        src.close()
    finish_a(w, o)


class Daemons:
    """Mode b: the daemons of both hosts, killed and restarted at will."""

    def __init__(self, w, window):
        self.w = w
        self.window = window
        self.recv_port = free_port()
        self.ack_port = free_port()
        self.p = {}
        self.kills = []
        self.lock = threading.Lock()

    def errf(self, n):
        return open(os.path.join(self.w.dir, n + '.err'), 'ab')

    def start(self, name):
        w = self.w
        if name == 'chain':
            cap, ded, seal = start_chain(w, ['--window', self.window])
            self.p['capture'], self.p['dedup'], self.p['seal'] = cap, ded, seal
            return
        if name == 'recv':
            args = ['srdf-recv', '--dir', w.D, '--key-file', w.key, '--listen',
                    '127.0.0.1:%d' % self.recv_port, '--insecure']
        elif name == 'ackd':
            args = ['srdf-ackd', '--dir', w.S, '--key-file', w.key, '--listen',
                    '127.0.0.1:%d' % self.ack_port, '--insecure']
        elif name == 'ship':
            args = ['srdf-ship', '--dir', w.S, '--to', 'http://127.0.0.1:%d'
                    % self.recv_port, '--key-file', w.key, '--insecure',
                    '--retry', '200ms,500ms,1s']
        elif name == 'apply':
            args = ['srdf-apply', '--dir', w.D, '--key-file', w.key,
                    '--defaults-file', w.srv.env['DST_CNF'], '--ack-to',
                    'http://127.0.0.1:%d' % self.ack_port, '--insecure',
                    '--retry', '200ms,500ms,1s']
        self.p[name] = subprocess.Popen(args, cwd=w.dir, env=ENV,
                                        stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL,
                                        stderr=self.errf(name))

    def start_source(self):
        for n in ('recv', 'chain'):
            self.start(n)
        listening(os.path.join(self.w.dir, 'recv.err'))

    def start_rest(self):
        # srdf-ship and srdf-ackd want the outbox that srdf-seal makes
        # with its first wagon.
        new = os.path.join(self.w.S, 'outbox', 'new')
        end = time.time() + 30
        while not os.path.isdir(new):
            if time.time() > end:
                raise Failure('pipeline', 'no outbox 30 s after the first '
                              'transaction', tail(os.path.join(self.w.dir, 'seal.err')))
            time.sleep(0.05)
        for n in ('ackd', 'ship', 'apply'):
            self.start(n)

    def kill(self, victim):
        with self.lock:
            self.kills.append(victim)
            kill9(self.p[victim])
            if victim in ('capture', 'dedup', 'seal'):
                end = time.time() + 5
                for n in ('capture', 'dedup', 'seal'):
                    while self.p[n].poll() is None and time.time() < end:
                        time.sleep(0.05)
                    if self.p[n].poll() is None:
                        kill9(self.p[n])
                self.start('chain')
            else:
                self.start(victim)

    def stop_all(self):
        with self.lock:
            for n in ('capture', 'ship', 'apply', 'ackd', 'recv'):
                if n in self.p:
                    term(self.p[n])
            for n in ('dedup', 'seal'):
                if n in self.p:
                    term(self.p[n])

    def dead_chain(self):
        """A stage of the chain that exited by itself."""
        for n in ('capture', 'dedup', 'seal', 'ship', 'apply', 'recv', 'ackd'):
            p = self.p.get(n)
            if p is not None and p.poll() is not None:
                return n, p.returncode
        return None


def apply_errors(w):
    out = []
    for f in sorted(os.listdir(w.dir)):
        if f.startswith('apply') and f.endswith('.err'):
            for line in open(os.path.join(w.dir, f), errors='replace'):
                if line.startswith('<3>') and ('wagon' in line or 'dead' in line):
                    out.append(f + ': ' + line.rstrip())
    return out


def wait_target(w, d, secs):
    """Waits for the target to reach the source's last GTID, through the
    daemons d; a Failure when a wagon is dead, a stage exited by itself
    or secs passed."""
    deadline = time.time() + secs
    while True:
        want, got = check_caught_up(w)
        if want == got:
            return
        bad = d.dead_chain()
        errs = apply_errors(w)
        led = subprocess.run(['ledger-wagons', w.D], env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
        if '"dead"' in led or bad or time.time() > deadline:
            det = errs + ['kills: ' + ' '.join(d.kills)]
            if bad:
                det.append('%s exited %s by itself' % bad)
                det += tail(os.path.join(w.dir, bad[0] + '.err'))
            raise Failure('apply' if errs or '"dead"' in led else 'converge',
                          'target at %s, source at %s%s' % (
                              got, want, ' (a wagon is dead)' if '"dead"' in led
                              else ''), det)
        time.sleep(0.2)


def mode_b(w, g, o, script, nunits, kills=True):
    ops = w.ops
    set_start(w)
    d = Daemons(w, o['window'])
    d.start_source()
    stop = threading.Event()

    def killer():
        while not stop.wait(ops.uniform(0.2, 1.0)):
            victim = ops.choice(['capture', 'dedup', 'seal', 'ship', 'recv', 'apply',
                                 'ackd'])
            d.kill(victim)
    kt = threading.Thread(target=killer, daemon=True)
    try:
        src = w.srv.conn('src')
        try:
            for u in g.schema_units(w.db):
                exec_unit(src, u, script)
                if u[0].startswith('CREATE DATABASE'):
                    qall(src, 'USE `%s`' % w.db)
            d.start_rest()
            for u in g.seed_rows():
                exec_unit(src, u, script)
            if kills:
                kt.start()
            # At least ~2.5 s of load, so that several stages get killed.
            run_units(src, g, nunits, script, pause=max(0.002, 2.5 / nunits))
        finally:
            src.close()
            stop.set()
            if kills:
                kt.join()
        wait_target(w, d, 60 + (5 if o['window'] == '5s' else 0))
    finally:
        d.stop_all()
    w.kills = d.kills
    errs = apply_errors(w)
    if errs:
        raise Failure('apply', 'srdf-apply logged failed wagons', errs)


def mode_c(w, g, o, script, nunits):
    src = w.srv.conn('src')
    try:
        for u in g.schema_units(w.db):
            exec_unit(src, u, script, 'pre')
            if u[0].startswith('CREATE DATABASE'):
                qall(src, 'USE `%s`' % w.db)
        for u in g.seed_rows():
            exec_unit(src, u, script, 'pre')
        run_units(src, g, nunits // 3, script, 'pre')
    finally:
        src.close()
    script.add({'bootstrap': True})
    load_err = []

    if not g.on('bootstrap_ddl'):
        g.no_ddl = True

    def load():
        c = w.srv.conn('src', w.db)
        try:
            run_units(c, g, nunits - nunits // 3, script, 'load', pause=0.01)
        except Exception as e:  # noqa: BLE001
            load_err.append(repr(e))
        finally:
            c.close()
    lt = threading.Thread(target=load, daemon=True)
    lt.start()
    time.sleep(0.1)
    bopts = o.get('bootstrap', [])
    be = open(os.path.join(w.dir, 'bootstrap.err'), 'ab')
    boot = subprocess.Popen(['srdf-bootstrap', '--defaults-file', w.srv.env['SRC_CNF'],
                             '--dir', w.S, '--databases', w.db] + bopts, cwd=w.dir,
                            env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=be)
    seal = subprocess.Popen(['srdf-seal', '--dir', w.S, '--key-file', w.key], cwd=w.dir,
                            env=ENV, stdin=boot.stdout, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(w.dir, 'seal.err'), 'ab'))
    boot.stdout.close()
    rb, rs = boot.wait(timeout=600), seal.wait(timeout=600)
    lt.join()
    if load_err:
        raise Failure('harness', 'the load failed: ' + load_err[0])
    if (rb, rs) != (0, 0):
        raise Failure('pipeline', 'srdf-bootstrap | srdf-seal exited %d %d' % (rb, rs),
                      tail(os.path.join(w.dir, 'bootstrap.err')))
    seal_pass(w, o['dedup'])
    ship_and_apply(w, o['transport'], o['apply'])
    want, got = check_caught_up(w)
    if want != got:
        raise Failure('apply', 'target at %s, source at %s after catch-up'
                      % (got, want), tail(os.path.join(w.dir, 'apply.err')))


def mode_o(w, g, o, script, nunits):
    """Online copies: mode b's daemons (no kills); once the schema and
    its rows are on the target, the target drifts (rows deleted behind
    srdf's back, in tables no foreign key or trigger ties), and while the workload runs every table is copied
    again online, one after the other (srdf-bootstrap --resync,
    srdf-bootstrap(1) "Copying a table again online")."""
    ops = w.ops
    set_start(w)
    d = Daemons(w, '100ms')
    d.start_source()
    if not g.on('bootstrap_ddl'):
        g.no_ddl = True
    try:
        src = w.srv.conn('src')
        try:
            # The watermarks (srdf.resync), and LOCK TABLES for the
            # tables not in InnoDB; not binlogged.
            qall(src, 'SET SESSION sql_log_bin = 0')
            for h in ('127.0.0.1', 'localhost'):
                qall(src, "GRANT ALL ON srdf.* TO 'srdf'@'%s'" % h)
                qall(src, "GRANT LOCK TABLES ON `%s`.* TO 'srdf'@'%s'" % (w.db, h))
            qall(src, 'SET SESSION sql_log_bin = 1')
            for u in g.schema_units(w.db):
                exec_unit(src, u, script)
                if u[0].startswith('CREATE DATABASE'):
                    qall(src, 'USE `%s`' % w.db)
            d.start_rest()
            for u in g.seed_rows():
                exec_unit(src, u, script)
        finally:
            src.close()
        wait_target(w, d, 60)
        dst = w.srv.conn('dst', w.db)
        try:
            # Drift as rows lost behind srdf's back: no cascade, and no
            # trigger fires (the session is one of srdf-apply's for the
            # guard, srdf-apply(1) "Triggers"), or its rows would be
            # drift the workload's own inserts then collide with.
            qall(dst, 'SET SESSION foreign_key_checks = 0')
            qall(dst, "REPLACE INTO srdf.apply_sessions VALUES "
                 "(CONNECTION_ID(), 'difftest', NOW(6))")
            # Only tables no foreign key nor trigger ties to others: a
            # parent's row gone would fail a later child insert, a
            # trigger log's an insert of its key, before the table's
            # copy comes (the drift a copy repairs, not drift that
            # stops srdf-apply first).
            for (t,) in qall(dst, "SELECT TABLE_NAME FROM information_schema.TABLES "
                             "WHERE TABLE_SCHEMA = DATABASE() AND "
                             "TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'log%' "
                             "AND TABLE_NAME NOT IN (SELECT TABLE_NAME FROM "
                             "information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                             "CONSTRAINT_SCHEMA = DATABASE() UNION SELECT "
                             "REFERENCED_TABLE_NAME FROM "
                             "information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                             "CONSTRAINT_SCHEMA = DATABASE() UNION SELECT "
                             "EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
                             "WHERE TRIGGER_SCHEMA = DATABASE()) ORDER BY 1"):
                try:
                    qall(dst, 'DELETE FROM `%s` LIMIT %d' % (t, ops.choice([1, 2, 5])))
                except pymysql.err.MySQLError:
                    pass
            qall(dst, 'DELETE FROM srdf.apply_sessions WHERE id = CONNECTION_ID()')
        finally:
            dst.close()
        c = w.srv.conn('src', w.db)
        try:
            tables = [r[0] for r in qall(c, "SELECT TABLE_NAME FROM "
                                         "information_schema.TABLES WHERE TABLE_SCHEMA "
                                         "= DATABASE() AND TABLE_TYPE = 'BASE TABLE' "
                                         "ORDER BY 1")]
        finally:
            c.close()
        ops.shuffle(tables)
        load_err = []

        def load():
            lc = w.srv.conn('src', w.db)
            try:
                run_units(lc, g, nunits, script, pause=max(0.002, 2.0 / nunits))
            except Exception as e:  # noqa: BLE001
                load_err.append(repr(e))
            finally:
                lc.close()
        lt = threading.Thread(target=load, daemon=True)
        lt.start()
        o['resync'] = []
        for t in tables:
            k = ops.choice([1, 3, 7, 50, 1000])
            o['resync'].append('%s/%d' % (t, k))
            rc = run(['srdf-bootstrap', '--defaults-file', w.srv.env['SRC_CNF'],
                      '--dir', w.S, '--resync', '%s.%s' % (w.db, t), '--chunk-rows',
                      str(k)], w.dir, 'resync')
            if rc != 0:
                c = w.srv.conn('src', w.db)
                try:
                    gone = q1(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                              "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'" % t) == 0
                finally:
                    c.close()
                if not gone:
                    raise Failure('pipeline', 'srdf-bootstrap --resync %s.%s exited %d'
                                  % (w.db, t, rc), tail(os.path.join(w.dir, 'resync.err')))
        lt.join()
        if load_err:
            raise Failure('harness', 'the load failed: ' + load_err[0])
        wait_target(w, d, 60)
    finally:
        d.stop_all()
    errs = apply_errors(w)
    if errs:
        raise Failure('apply', 'srdf-apply logged failed wagons', errs)


# ---- srdf-verify's own test: planted divergences --------------------------

PLANT_SCHEMA = [
    'CREATE TABLE vt (id INT PRIMARY KEY, ci VARCHAR(10) COLLATE utf8mb4_general_ci, '
    'n INT, KEY ix_n (n))',
    "INSERT INTO vt SELECT seq, ELT(1 + seq % 3, 'a', 'b', 'c'), seq * 10 FROM seq_1_to_50",
    'CREATE TABLE vk (a INT, ci VARCHAR(10) COLLATE utf8mb4_general_ci)',
    "INSERT INTO vk VALUES (1, 'a'), (2, 'b'), (2, 'b'), (NULL, NULL)",
    'CREATE TABLE vs (id VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, '
    'v VARCHAR(10) COLLATE utf8mb4_general_ci)',
    "INSERT INTO vs VALUES ('a', 'x'), ('b', 'y'), ('c', 'z')",
]


def mode_v(w, g, o, script, nunits):
    """srdf-verify must report every kind of divergence planted on the
    target: row missing, extra, changed, changed only in case under a
    case-insensitive collation, an index missing."""
    src = w.srv.conn('src')
    try:
        set_start(w)
        for u in g.schema_units(w.db):
            exec_unit(src, u, script)
            if u[0].startswith('CREATE DATABASE'):
                qall(src, 'USE `%s`' % w.db)
        for s in PLANT_SCHEMA:
            exec_unit(src, [s], script)
        for u in g.seed_rows():
            exec_unit(src, u, script)
        run_units(src, g, nunits, script)
    finally:
        src.close()
    seal_pass(w, o['dedup'])
    ship_and_apply(w, o['transport'], o['apply'])
    compare(w)   # equal first
    dst = w.srv.conn('dst', w.db)
    trig = set(r[0] for r in qall(dst, "SELECT EVENT_OBJECT_TABLE FROM "
                                  "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '%s'"
                                  % w.db))
    qall(dst, 'SET SESSION foreign_key_checks = 0')
    planted = {
        'vt': ("DELETE FROM vt WHERE id = 1; INSERT INTO vt VALUES (100, 'q', 1); "
               "UPDATE vt SET n = n + 1 WHERE id = 2; UPDATE vt SET ci = 'A' WHERE id = 3"),
        'vk': "UPDATE vk SET ci = 'A' WHERE a = 1",
        'vs': "UPDATE vs SET v = 'X' WHERE id = 'a'; UPDATE vs SET id = 'B' WHERE id = 'b'",
    }
    for sql in planted.values():
        for s in sql.split('; '):
            qall(dst, s)
    qall(dst, 'ALTER TABLE vt DROP INDEX ix_n')
    # On the generated tables: a row deleted from each (no triggers).
    tabs = [r[0] for r in qall(dst, "SELECT TABLE_NAME FROM information_schema.TABLES "
                               "WHERE TABLE_SCHEMA = '%s' AND TABLE_TYPE = 'BASE TABLE'"
                               % w.db)]
    random_planted = []
    for t in tabs:
        if t in planted or t in trig:
            continue
        try:
            with dst.cursor() as c:
                if c.execute('DELETE FROM `%s` LIMIT 1' % t):
                    random_planted.append(t)
        except pymysql.err.MySQLError:
            pass
    dst.close()
    rc, doc, err = run_verify(w, ['--wait-seconds', '0'])
    problems = []
    if rc != 1 or doc is None:
        problems.append('srdf-verify exited %d, not 1' % rc)
    else:
        vt = {t['table']: t for t in doc.get('tables', []) if t.get('db') == w.db}

        def keys(t, lst):
            return json.dumps(vt.get(t, {}).get(lst, []))
        for t in list(planted) + random_planted:
            if vt.get(t, {}).get('status', 'equal') == 'equal':
                problems.append('%s: not reported' % t)
        if '"id": 1' not in keys('vt', 'missing_on_target'):
            problems.append('vt: row id=1 missing on the target not listed')
        if '"id": 100' not in keys('vt', 'extra_on_target'):
            problems.append('vt: extra row id=100 not listed')
        if '"id": 2' not in keys('vt', 'changed') or '"id": 3' not in keys('vt', 'changed'):
            problems.append("vt: changed rows id=2 (value) and id=3 ('a' -> 'A') not "
                            "both listed: %s" % keys('vt', 'changed'))
        if 'ix_n' not in json.dumps(vt.get('vt', {})):
            problems.append('vt: missing index ix_n not reported: %s'
                            % json.dumps(vt.get('vt', {}))[:300])
        if '"a"' not in keys('vs', 'changed'):
            problems.append("vs: v 'x' -> 'X' in row id='a' not listed as changed: %s"
                            % keys('vs', 'changed'))
        if '"b"' not in keys('vs', 'changed') + keys('vs', 'missing_on_target') + \
                keys('vs', 'extra_on_target'):
            problems.append("vs: key 'b' -> 'B' (same under the collation) not listed")
    if problems:
        raise Failure('verify', '; '.join(problems), [])


MODES = {'a': mode_a, 'b': mode_b, 'c': mode_c, 'v': mode_v, 'o': mode_o}


def run_seed(srv, seed, mode, args, base):
    ops = random.Random(seed * 1000003 + ord(mode))
    w = setup_work(srv, seed, mode, base, ops)
    w.ops = ops
    o = pipeline_opts(ops, mode)
    if mode == 'c':
        o['bootstrap'] = ops.choice([[], ['--chunk-rows', '7', '--parallel', '2']])
    exclude = list(args.exclude)
    if mode == 'c' and 'myisam' not in (args.only or []):
        # srdf-bootstrap copies a MyISAM or Aria table as it is when read,
        # outside the snapshot (documented): writes to it under load
        # would be applied twice.
        exclude.append('myisam')
    g = genmod.Gen(seed, only=args.only, exclude=exclude, size=args.size)
    nunits = max(5, int(args.units * args.size))
    header = {'difftest': 1, 'seed': seed, 'mode': mode, 'db': w.db, 'opts': o,
              'features': sorted(g.features), 'units': nunits}
    script = Script(os.path.join(w.dir, 'script.jsonl'), header)
    t0 = time.time()
    try:
        MODES[mode](w, g, o, script, nunits)
        if mode != 'v':
            compare(w, history='versioned_history' in g.features)
        ok, fail = True, None
    except Failure as f:
        ok, fail = False, f
    except subprocess.TimeoutExpired as e:
        ok, fail = False, Failure('timeout', str(e))
    except pymysql.err.MySQLError as e:
        ok, fail = False, Failure('harness', 'SQL error in the harness: %s' % (e,))
    finally:
        script.close()
    w.elapsed = time.time() - t0
    w.features = sorted(g.features)
    w.tables = ['%s[%s]' % (t.name, ','.join(sorted(t.kind))) for t in g.tables]
    w.opts = o
    return w, ok, fail


def report(w, fail, out):
    out.write('FAIL seed=%d mode=%s: %s: %s\n' % (w.seed, w.mode, fail.kind, fail.msg))
    out.write('  features: %s\n' % ' '.join(w.features))
    out.write('  pipeline: %s\n' % json.dumps(w.opts))
    if getattr(w, 'tables', None):
        out.write('  tables: %s\n' % ' '.join(w.tables))
    for l in fail.details[:60]:
        out.write('  ' + l + '\n')
    out.write('  script: %s (replay: t/difftest/run --replay %s)\n'
              % (os.path.join(w.dir, 'script.jsonl'), os.path.join(w.dir, 'script.jsonl')))
    out.flush()


# ---- replay and shrinking ------------------------------------------------

def replay_once(srv, header, items, base, mode=None, tag='replay'):
    """Replays ITEMS in mode a (the recorded seal points and pipeline
    options); returns the Failure or None."""
    seed = header['seed']
    w = setup_work(srv, seed, 'r', base, None)
    w.db = header['db']
    reset(srv, w.db)
    o = dict(header['opts'])
    o.setdefault('dedup', ['--window', '1h'])
    o.setdefault('transport', 'dir')
    o.setdefault('apply', [])
    try:
        replay_a(w, items, o)
        compare(w, history='versioned_history' in header.get('features', []))
    except Failure as f:
        return f, w
    except pymysql.err.MySQLError as e:
        return Failure('harness', str(e)), w
    return None, w


def signature(f):
    """What a shrunk script must still do: the same kind of failure, and
    for srdf-apply the same server error number."""
    if f is None:
        return None
    if f.kind == 'apply':
        for l in f.details:
            m = re.search(r'<3>(?:[0-9TZ:.-]* )?srdf-apply: wagon \d+ failed.*\(error (\d+)\)', l)
            if m:
                return 'apply error ' + m.group(1)
        return 'apply ' + re.sub(r'[0-9-]+', 'N', f.msg)
    if f.kind == 'diff':
        return 'diff' + (' verify-only' if all(p.startswith('srdf-verify')
                                              for p in f.msg.split('; ')) else '')
    return f.kind


def units_of(items):
    return [it for it in items if 'unit' in it or it.get('seal')]


def ddmin(items, test, log_fn):
    """Zeller's ddmin over a list; TEST(list) is True while it fails."""
    n = 2
    while len(items) >= 2:
        chunk = max(1, len(items) // n)
        subsets = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        reduced = False
        for i in range(len(subsets)):
            complement = [x for j, s in enumerate(subsets) if j != i for x in s]
            if complement and test(complement):
                items = complement
                n = max(n - 1, 2)
                reduced = True
                log_fn('%d left' % len(items))
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def to_sql(header, items):
    out = ['-- difftest seed %d, mode %s, database %s' % (header['seed'],
                                                         header['mode'], header['db'])]
    for it in items:
        if it.get('seal'):
            out.append('-- (a wagon is sealed here)')
            continue
        for s, e in zip(it['unit'], it.get('err', [])):
            out.append(s + ';' + ('  -- source error %d' % e if e else ''))
        if len(it['unit']) > len(it.get('err', [])):
            out += [s + ';' for s in it['unit'][len(it.get('err', [])):]]
    return '\n'.join(out)


def shrink(srv, path, base, out):
    header, items = Script.load(path)
    items = [it for it in items if 'unit' in it or it.get('seal')]
    # Those the source refused entirely do nothing: drop them first.
    f0, _ = replay_once(srv, header, items, base)
    if f0 is None:
        out.write('shrink: seed %d does not fail when replayed in mode a; '
                  'not shrunk\n' % header['seed'])
        return None
    sig = signature(f0)
    out.write('shrink: seed %d mode %s reproduces in mode a as %s; %d units\n'
              % (header['seed'], header['mode'], sig, len(items)))
    out.flush()
    tests = [0]

    def test(cand):
        tests[0] += 1
        f, _ = replay_once(srv, header, cand, base)
        return signature(f) == sig

    def lg(m):
        out.write('shrink: %s\n' % m)
        out.flush()
    items = ddmin(items, test, lg)
    # Then the statements inside each unit (keeping BEGIN/COMMIT shape).
    for i in range(len(items)):
        it = items[i]
        if it.get('seal') or len(it['unit']) < 2:
            continue
        stmts = list(zip(it['unit'], it.get('err', [0] * len(it['unit']))))

        def t2(cand, i=i):
            trial = items[:i] + [{'unit': [s for s, _ in cand],
                                  'err': [e for _, e in cand]}] + items[i + 1:]
            return test(trial)
        stmts = ddmin(stmts, t2, lg)
        items[i] = {'unit': [s for s, _ in stmts], 'err': [e for _, e in stmts]}
    # Drop seal markers that do not matter.
    items = ddmin(items, test, lg) if len(items) > 1 else items
    f, w = replay_once(srv, header, items, base)
    out.write('shrink: %d replays; minimal script (%d units) fails as: %s\n'
              % (tests[0], len(items), f))
    out.write(to_sql(header, items) + '\n')
    mpath = path.replace('.jsonl', '') + '.min.jsonl'
    with open(mpath, 'w') as fo:
        fo.write(json.dumps(header) + '\n')
        for it in items:
            fo.write(json.dumps(it, ensure_ascii=False) + '\n')
    out.write('shrink: written to %s\n' % mpath)
    if f is not None:
        for l in f.details[:20]:
            out.write('  ' + l + '\n')
    return items


# ---- main ----------------------------------------------------------------

def parse_seeds(s):
    out = []
    for part in s.split(','):
        if '-' in part:
            a, b = part.split('-', 1)
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(prog='t/difftest/run', description=__doc__)
    ap.add_argument('--seeds', default='1-10', help='e.g. 1-100 or 3,7,9-12')
    ap.add_argument('--mode', default='a', help='a, b, c, v, o, or all (a b c), or a '
                    'comma list; with all, seed N runs in mode "abc"[N %% 3]')
    ap.add_argument('--only', default='', help='features to use, comma-separated '
                    '(default: a random subset per seed)')
    ap.add_argument('--exclude', default='', help='features never to use')
    ap.add_argument('--units', type=int, default=int(os.environ.get('DIFFTEST_UNITS', 40)),
                    help='workload units (transactions/statements) per seed (40)')
    ap.add_argument('--size', type=float, default=float(os.environ.get('DIFFTEST_SIZE', 1)),
                    help='scale of the workload and big transactions (1.0)')
    ap.add_argument('--shrink', action='store_true', help='shrink every failure')
    ap.add_argument('--keep', action='store_true', help='keep work dirs and servers')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--servers', default=None, metavar='DIR',
                    help='use the server pair already started in DIR by '
                    't/srdf-servers start (left running)')
    ap.add_argument('--replay', default=None, metavar='FILE',
                    help='replay a recorded script.jsonl (mode a) and compare')
    ap.add_argument('--shrink-file', default=None, metavar='FILE',
                    help='shrink a recorded script.jsonl')
    ap.add_argument('--list-features', action='store_true')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    VERBOSE = args.verbose
    if args.list_features:
        for k, (wt, d) in genmod.FEATURES.items():
            print('%-18s %d  %s' % (k, wt, d))
        return 0
    args.only = [x for x in re.split(r'[ ,]+', args.only) if x]
    args.exclude = [x for x in re.split(r'[ ,]+', args.exclude) if x]
    for f in args.only + args.exclude:
        if f not in genmod.FEATURES:
            print('difftest: unknown feature %s (see --list-features)' % f,
                  file=sys.stderr)
            return 64
    base = args.workdir or tempfile.mkdtemp(prefix='difftest.', dir='/tmp')
    os.makedirs(base, exist_ok=True)
    srv = Servers(keep=args.keep, existing=args.servers)

    def on_signal(sig, frame):
        srv.stop()
        sys.exit(130)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    out = sys.stdout
    try:
        if args.replay or args.shrink_file:
            path = args.replay or args.shrink_file
            if args.shrink_file:
                items = shrink(srv, path, base, out)
                return 0 if items is None else 1
            header, items = Script.load(path)
            f, w = replay_once(srv, header, items, base)
            if f:
                report(type('W', (), {'seed': header['seed'], 'mode': 'replay-a',
                                      'features': header.get('features', []),
                                      'opts': header.get('opts'), 'dir': w.dir})(),
                       f, out)
                print('0 passed, 1 failed')
                return 1
            print('replay of seed %d: equal' % header['seed'])
            print('1 passed, 0 failed')
            return 0
        seeds = parse_seeds(args.seeds)
        modes = args.mode.split(',')
        passed = failed = 0
        fails = []
        times = collections.defaultdict(list)
        for seed in seeds:
            for m in modes:
                mm = 'abc'[seed % 3] if m == 'all' else m
                if mm not in MODES:
                    print('difftest: unknown mode %s' % mm, file=sys.stderr)
                    return 64
                w, ok, fail = run_seed(srv, seed, mm, args, base)
                times[mm].append(w.elapsed)
                if ok:
                    passed += 1
                    print('ok seed=%d mode=%s (%.1f s%s)' % (
                        seed, mm, w.elapsed, ', %d kill -9' % len(w.kills)
                        if getattr(w, 'kills', None) is not None else ''), flush=True)
                    if not args.keep:
                        shutil.rmtree(w.dir, ignore_errors=True)
                else:
                    failed += 1
                    fails.append((seed, mm))
                    report(w, fail, out)
                    if args.shrink:
                        shrink(srv, os.path.join(w.dir, 'script.jsonl'), base, out)
        for m, ts in sorted(times.items()):
            print('difftest: mode %s: %d seeds, %.1f s per seed' % (m, len(ts),
                                                                   sum(ts) / len(ts)))
        if fails:
            print('difftest: failed: ' + ' '.join('seed=%d mode=%s' % f for f in fails))
        print('difftest: work directory %s' % base)
        print('%d passed, %d failed' % (passed, failed))
        if not failed and not args.keep and not args.workdir:
            shutil.rmtree(base, ignore_errors=True)
        return 1 if failed else 0
    finally:
        srv.stop()


if __name__ == '__main__':
    sys.exit(main())
