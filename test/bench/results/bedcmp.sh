#!/bin/bash
# Same e2e tests on the UML bed (7ac4479, the last commit with test/uml) and on the QEMU-TCG bed (main),
# each timed while it holds the VM lock (so waiting for the lock is not counted).
T='^(TestFaultIPVSAbsentAndUnloaded|TestFaultChurnWhileWalking|TestFaultSnmpdRestarts|TestIPVSStatsMatchesIpvsadm|TestIPVSStatsChurn|TestIPVSStatsErrors|TestIPVSStatsLargeTable|TestLVSMIBThroughSnmpd|TestProduction|TestSmokeIPVSCountersMove)$'
out=/tmp/bedcmp
mkdir -p $out
export T out
(cd /tmp/uml-wt && go test -c -o $out/uml-e2e.test ./test/e2e) || exit 1
(cd /work/main && git rev-parse HEAD > $out/main-rev && go test -c -o $out/qemu-e2e.test ./test/e2e) || exit 1
cd /tmp/uml-wt/test/e2e && flock /work/vm.lock bash -c 's=$(date +%s); $out/uml-e2e.test -test.count=1 -test.v -test.parallel 1 -test.timeout 60m -test.run "$T" > $out/uml.txt 2>&1; echo "rc=$? wall=$(( $(date +%s) - s ))s" >> $out/uml.txt'
cd /work/main/test/e2e && flock /work/vm.lock bash -c 's=$(date +%s); LVS_TESTBED=qemu-tcg $out/qemu-e2e.test -test.count=1 -test.v -test.parallel 1 -test.timeout 60m -test.run "$T" > $out/qemu.txt 2>&1; echo "rc=$? wall=$(( $(date +%s) - s ))s" >> $out/qemu.txt'
