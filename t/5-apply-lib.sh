# t/5-apply-lib.sh — sourced by the srdf-apply tests (t/5*.t) after
# t/lib.sh and srdf_servers_start.  The source half of the pipeline makes
# real wagons; the tests play srdf-ship and srdf-recv by copying them.
#
#	apply_setup              key, source state dir $S (capture starts
#	                         at the source's current GTID), target $D
#	seal_new [dedup opts]    srdf-capture --until-end | srdf-dedup |
#	                         srdf-seal: what the source did since the
#	                         last call, as wagons in $S/outbox/new
#	                         (--max-bytes N makes chunks of a big
#	                         transaction)
#	deliver [SEQ...]         copies wagons (all not yet delivered, or
#	                         the given sequences) into $D/inbox/new, each
#	                         whole (a copy beside it, then a rename)
#	apply_once [opts]        srdf-apply --once on $D (stderr to apply.err)
#	wagon_count              wagons sealed so far
#	wagon_state SEQ          the target ledger's state of wagon SEQ
#	wagon_field SEQ FIELD    another field of that record
#	applied_seq              srdf.applied's sequence on the target

S=$PWD/src
D=$PWD/dst

apply_setup() {
	srdf-keygen -o key 2>/dev/null &&
	mkdir -p "$S" "$D/inbox/new" &&
	ledger-meta "$S" bootstrap_gtid "$(src_sql 'SELECT @@gtid_binlog_pos')"
}

seal_new() {
	srdf-capture --defaults-file "$SRC_CNF" --dir "$S" --until-end \
		2>>capture.err |
	srdf-dedup --window 1h "$@" 2>>dedup.err |
	srdf-seal --dir "$S" --key-file key 2>>seal.err
	# Every stage must succeed, not only the last.
	case ${PIPESTATUS[*]} in
	"0 0 0") return 0 ;;
	*) echo "seal_new: capture | dedup | seal exited ${PIPESTATUS[*]}" >&2; return 1 ;;
	esac
}

wagon_name() {
	printf '%020d.wagon' "$1"
}

# deliver_one FILE: into $D/inbox/new whole, as srdf-recv stores a wagon
# (a copy beside it, then a rename): srdf-apply, watching new/, never
# reads a wagon cut short.
deliver_one() {
	cp "$1" "$D.deliver.$BASHPID" &&
	mv "$D.deliver.$BASHPID" "$D/inbox/new/${1##*/}"
}

deliver() {
	local f n
	if [ $# -gt 0 ]; then
		for n; do
			deliver_one "$S/outbox/new/$(wagon_name "$n")" || return
		done
		return 0
	fi
	for f in "$S"/outbox/new/*.wagon; do
		[ -e "$f" ] || continue
		n=${f##*/}
		[ -e "$D/inbox/cur/$n" ] || [ -e "$D/inbox/new/$n" ] ||
			deliver_one "$f" || return
	done
}

apply_once() {
	srdf-apply --dir "$D" --key-file key --defaults-file "$DST_CNF" \
		--once "$@" 2>>apply.err
}

wagon_count() {
	ls "$S/outbox/new" | grep -c '\.wagon$'
}

wagon_state() {
	wagon_field "$1" state
}

wagon_field() {
	ledger-wagons "$D" | jq -r "select(.seq == $1) | .$2"
}

applied_seq() {
	dst_sql "SELECT seq FROM srdf.applied"
}
