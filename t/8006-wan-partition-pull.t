#!/bin/bash
# t/8003 in the pull-ACK mode: the link cut under load for a minute with
# no srdf-ackd and nothing listening in the source namespace; srdf-ship
# --ack-pull brings every ACK back after the heal.
WAN_ACKS=pull
. "$(dirname "$0")/8003-wan-partition.t"
