#!/bin/sh
# Container ENTRYPOINT for aci-ip-registrar.
# Registers this container group's private IP (configured through the
# ACI_IP_REGISTRAR_* variables), then execs the image's CMD, passed here as "$@".
# exec keeps the PID: the registrar in turn execs the app, so the app receives
# signals and its exit status is the container's.
exec aci-ip-registrar register -- "$@"
