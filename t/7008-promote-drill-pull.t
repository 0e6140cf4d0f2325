#!/bin/bash
# t/7003 in the pull-ACK mode: srdf-apply --ack-pull and srdf-ship
# --ack-pull carry the ACKs back, no srdf-ackd, no inbound port on the
# source; the drill must end the same.
ack_pull=1
. "$(dirname "$0")/7003-promote-drill.t"
