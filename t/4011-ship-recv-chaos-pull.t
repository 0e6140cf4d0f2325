#!/bin/bash
# t/4005 in the pull-ACK mode: srdf-ship --ack-pull takes every ACK
# through the srdf-recv that is killed, stopped and frozen.
ack_pull=1
. "$(dirname "$0")/4005-ship-recv-chaos.t"
