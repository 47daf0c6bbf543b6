# table.sh: a table with every kind of row (ipvsstats_test.go's scenarioSetup).
set -e
ip link set lo multicast on
ip addr add 10.99.0.1/32 dev lo
ip addr add 10.99.0.2/32 dev lo
ip -6 addr add fd00::1/128 dev lo
ip -6 addr add fd00::2/128 dev lo
mkdir -p /tmp/www && head -c 1000 /dev/zero > /tmp/www/index.html
busybox httpd -p 127.0.0.1:8081 -h /tmp/www
busybox httpd -p 127.0.0.1:8082 -h /tmp/www
busybox httpd -p 10.99.0.2:8083 -h /tmp/www

ipvsadm -A -t 10.99.0.1:80 -s rr
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8081 -m
ipvsadm -a -t 10.99.0.1:80 -r 127.0.0.1:8082 -m -w 3
ipvsadm -A -t 10.99.0.2:8083 -s wlc
ipvsadm -a -t 10.99.0.2:8083 -r 10.99.0.2:8083 -g
ipvsadm -A -u 10.99.0.3:53 -s wrr -o
ipvsadm -a -u 10.99.0.3:53 -r 10.0.0.10:53 -g -w 0
ipvsadm -a -u 10.99.0.3:53 -r 10.0.0.11:53 -g -w 2 -x 100 -y 10
ipvsadm -A --sctp-service 10.99.0.4:5000 -s sh -b sh-fallback,sh-port
ipvsadm -a --sctp-service 10.99.0.4:5000 -r 10.0.0.20:5000 -i
ipvsadm -a --sctp-service 10.99.0.4:5000 -r 10.0.0.21:5000 -i --tun-type gue --tun-port 6080 --tun-remcsum
ipvsadm -a --sctp-service 10.99.0.4:5000 -r 10.0.0.22:5000 -i --tun-type gre --tun-csum
ipvsadm -A -t 10.99.0.5:443 -s wlc -p 300 -M 255.255.255.0
ipvsadm -a -t 10.99.0.5:443 -r 10.0.0.30:443 -m -x 50 -y 5
ipvsadm -A -t [fd00::1]:443 -s mh -b mh-fallback -p 600 -M 64
ipvsadm -a -t [fd00::1]:443 -r [fd00::10]:8443 -m
ipvsadm -a -t [fd00::1]:443 -r [fd00::11]:443 -g -w 5
ipvsadm -A -u [fd00::2]:53 -s rr
ipvsadm -a -u [fd00::2]:53 -r [fd00::20]:53 -i -w 0
ipvsadm -A -f 1 -s rr
ipvsadm -a -f 1 -r 10.0.0.40 -g
ipvsadm -A -f 2 -6 -s wrr -p
ipvsadm -a -f 2 -6 -r fd00::40 -g -w 7
ipvsadm --set 900 120 300
ipvsadm --start-daemon master --mcast-interface lo --syncid 5
ipvsadm --start-daemon backup --mcast-interface lo --syncid 6
