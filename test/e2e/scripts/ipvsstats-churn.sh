# ipvsstats-churn.sh: TestIPVSStatsChurn's steps (ipvsstats_test.go).
set -e
{
for i in $(seq 0 199); do
  echo "-A -t 10.98.$((i / 100)).$((i % 100)):80 -s rr"
  for j in 1 2 3; do echo "-a -t 10.98.$((i / 100)).$((i % 100)):80 -r 10.1.$((i % 100)).$j:80 -g"; done
done
echo "-A -t 10.97.0.1:80 -s wlc"
for j in $(seq 1 150); do echo "-a -t 10.97.0.1:80 -r 10.4.$((j / 100)).$((j % 100)):80 -g"; done
} > stable.rules
ipvsadm -R < stable.rules
{ for i in $(seq 1 20); do
    echo "-A -t 10.96.0.$i:80 -s rr"
    echo "-a -t 10.96.0.$i:80 -r 10.2.0.1:80 -g"
    echo "-a -t 10.97.0.1:80 -r 10.3.0.$i:80 -g"
  done; } > add.rules
{ for i in $(seq 1 20); do
    echo "-D -t 10.96.0.$i:80"
    echo "-d -t 10.97.0.1:80 -r 10.3.0.$i:80"
  done; } > del.rules
( while :; do ipvsadm -R < add.rules; sleep 0.05; ipvsadm -R < del.rules; sleep 0.05; done ) &
churn=$!
ipvsdump -count 100 > churn.jsonl
kill $churn
wait $churn || true
