#!/bin/sh
# Container ENTRYPOINT for aci-ip-registrar.
# Registers this container group's private IP (configured through the
# ACI_IP_REGISTRAR_* variables), then starts the image's CMD, passed here as "$@".
#
# Two forms, chosen at deploy time with one variable:
#   default                          exec: the registrar registers once and execs the app, which
#                                    keeps the PID, gets the signals, and its exit status is the
#                                    container's. Nothing runs beside the app afterwards.
#   ACI_IP_REGISTRAR_SUPERVISE=true  supervise: the registrar stays PID 1, starts the app as its
#                                    child, forwards every signal, reaps zombies, re-verifies every
#                                    ACI_IP_REGISTRAR_INTERVAL seconds and repairs drift, and on
#                                    SIGTERM deregisters, waits ACI_IP_REGISTRAR_DRAIN_DELAY, then
#                                    passes SIGTERM on; it exits with the app's status.
exec aci-ip-registrar register -- "$@"
