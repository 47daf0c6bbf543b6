# faults-lib.sh: the fault scenarios' own helpers (after test/scenario's lib.sh):
# avail prints lvsIpvsAvailable; is AVAIL NSERVICES tests lvsIpvsAvailable
# and lvsNumServices, in one snmpget.
avail() { get1 $LVS.9.0 | sed -n 's/.*INTEGER: //p'; }
is() { [[ "$(get1 $LVS.9.0 $LVS.2.0)" == *"9.0 = INTEGER: $1"*"2.0 = INTEGER: $2" ]]; }
