# contexts-setup.sh: the namespaces red, green and blue and the scenario's
# own, with services and traffic (contexts_test.go's contextsSetup), made
# with lib.sh's inns, nsweb and listings.
set -e
mkdir -p /tmp/www && head -c 1500 /dev/zero > /tmp/www/index.html
# traffic NS URL N: N requests.
traffic() { for i in $(seq "$3"); do inns "$1" curl -sf -o /dev/null "$2"; done; }
for ns in red green blue; do ip netns add $ns; ip -n $ns link set lo up; done

nsweb default 10.9.0.1 8090
nsweb red 10.1.0.1 8081 8082
ip netns exec red ipvsadm -A -u 10.1.0.2:53 -s wrr
ip netns exec red ipvsadm -a -u 10.1.0.2:53 -r 10.1.1.1:53 -g -w 4
nsweb green 10.2.0.1 8081
ip netns exec green ipvsadm -A -f 7 -s rr
ip netns exec green ipvsadm -a -f 7 -r 10.2.1.1 -g -w 0
ip netns exec green ipvsadm -A -t 10.2.0.9:25 -s lc
ip netns exec green ipvsadm -a -t 10.2.0.9:25 -r 10.2.1.2:25 -g
ip -n blue -6 addr add fd00::3/128 dev lo
nsweb blue 10.3.0.1 8081 8082 8083
ip netns exec blue ipvsadm -A -t [fd00::3]:443 -s mh
ip netns exec blue ipvsadm -a -t [fd00::3]:443 -r [fd00::30]:443 -g -w 2

traffic default http://10.9.0.1/ 2
traffic red http://10.1.0.1/ 4
traffic green http://10.2.0.1/ 3
traffic blue http://10.3.0.1/ 6
sleep 3 # the estimator's 2 s tick folds the traffic in
for ns in default red green blue; do inns $ns sysctl -qw net.ipv4.vs.run_estimation=0; done
sleep 1
for ns in default red green blue; do listings $ns; done
