package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// testLimits are short enough for every limit to act within a test; the
// header size stays the agent's.
func testLimits() limits {
	return limits{readHeader: 300 * time.Millisecond, read: time.Second, write: 400 * time.Millisecond,
		idle: 300 * time.Millisecond, shutdown: 300 * time.Millisecond, maxHeaderBytes: maxHeaderBytes}
}

// late is how long past a limit the server may take to act on it on a
// loaded two-CPU machine under -race; early is the clock's slack the other
// way. late is under the gaps between the test limits, so that a limit
// net/http falls back to when one is missing (ReadTimeout for the others)
// is told from the right one.
const (
	late  = 400 * time.Millisecond
	early = 20 * time.Millisecond
)

func TestDefaultLimits(t *testing.T) {
	// The agent's limits, as README and the package comment promise them.
	want := limits{readHeader: 5 * time.Second, read: 10 * time.Second, write: 60 * time.Second,
		idle: 60 * time.Second, shutdown: 5 * time.Second, maxHeaderBytes: 8 << 10}
	if got := defaultLimits(); got != want {
		t.Errorf("defaultLimits() = %+v, want %+v", got, want)
	}
}

// trackedListener notes when the server closes, or half-closes, each
// connection: a client that does not read cannot see that itself.
type trackedListener struct {
	net.Listener
	sndbuf int // > 0: the server's send buffer, small so that a client that does not read blocks it soon
	closed chan time.Time
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	if l.sndbuf > 0 {
		if err := tc.SetWriteBuffer(l.sndbuf); err != nil {
			c.Close()
			return nil, fmt.Errorf("set the send buffer: %w", err)
		}
	}
	// Embedding the *net.TCPConn keeps its CloseWrite, which net/http uses.
	return &trackedConn{TCPConn: tc, closed: l.closed}, nil
}

type trackedConn struct {
	*net.TCPConn
	once   sync.Once
	closed chan<- time.Time
}

func (c *trackedConn) note() {
	c.once.Do(func() {
		select {
		case c.closed <- time.Now():
		default: // nobody counts this one
		}
	})
}

func (c *trackedConn) Close() error      { c.note(); return c.TCPConn.Close() }
func (c *trackedConn) CloseWrite() error { c.note(); return c.TCPConn.CloseWrite() }

type testServer struct {
	addr   string
	e      *Exporter
	closed <-chan time.Time // when the server gave up each connection
	// stop cancels Serve's context and returns what Serve returned and
	// how long it took; later calls return the same.
	stop func() (error, time.Duration)
}

// startServer serves the test exporter through Serve on 127.0.0.1 with
// lim. Its cleanup stops it and checks that every goroutine started since
// is gone.
func startServer(t *testing.T, lim limits, sndbuf int) *testServer {
	t.Helper()
	before := runtime.NumGoroutine()
	e, _ := newTestExporter(RealServersFull)
	h, err := Handler(e, "test")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := &trackedListener{Listener: l, sndbuf: sndbuf, closed: make(chan time.Time, 256)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, tl, h, ServerConfig{Version: "test", limits: lim}) }()
	s := &testServer{addr: l.Addr().String(), e: e, closed: tl.closed}
	s.stop = sync.OnceValues(func() (error, time.Duration) {
		t0 := time.Now()
		cancel()
		select {
		case err := <-done:
			return err, time.Since(t0)
		case <-time.After(lim.shutdown + 5*time.Second):
			return errors.New("Serve did not return after its context ended"), time.Since(t0)
		}
	})
	t.Cleanup(func() {
		if err, _ := s.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		waitGoroutines(t, "after Serve returned", func() bool { return runtime.NumGoroutine() <= before })
	})
	return s
}

// waitGoroutines polls done for up to 3s (a connection the server hangs up
// on may linger 500ms in net/http before it is closed), and fails with
// every goroutine's stack when it stays false.
func waitGoroutines(t *testing.T, when string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !done(); {
		if time.Now().After(deadline) {
			var b bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("goroutines left %s:\n%s", when, testutil.Tail(b.String(), 80))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// connGoroutines counts the goroutines net/http runs for connections.
func connGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "net/http.(*conn).serve(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// noConnsLeft waits until the server runs no goroutine for a connection.
func noConnsLeft(t *testing.T) {
	t.Helper()
	waitGoroutines(t, "for connections", func() bool { return connGoroutines() == 0 })
}

// dial connects to addr, with a receive buffer of rcvbuf bytes when > 0
// (set before connecting, so that the window the client offers is small).
func dial(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// awaitClose reads c until the server closes it and returns how long after
// t0 that was; it fails the test when c is still open at t0+limit.
func awaitClose(t *testing.T, c net.Conn, t0 time.Time, limit time.Duration) time.Duration {
	t.Helper()
	c.SetReadDeadline(t0.Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, syscall.ECONNRESET):
		return time.Since(t0)
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("connection still open %s after it began", limit)
	default:
		t.Fatalf("read: %v", err)
	}
	return 0
}

// within fails the test unless got is in [lim-early, lim+late].
func within(t *testing.T, what string, got, lim time.Duration) {
	t.Helper()
	if got < lim-early || got > lim+late {
		t.Errorf("%s after %s, want %s to %s", what, got.Round(time.Millisecond), lim-early, lim+late)
	}
}

// roundTrip sends raw on c and reads one response to method.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, raw, method string) (*http.Response, string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("send: %v", err)
	}
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read the response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("read the body: %v", err)
	}
	c.SetDeadline(time.Time{})
	return res, string(body)
}

const getMetrics = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"

// scrapeOK scrapes addr on a new connection and fails unless it gets 200
// with lvs_up.
func scrapeOK(t *testing.T, addr string) {
	t.Helper()
	c := dial(t, addr, 0)
	res, body := roundTrip(t, c, bufio.NewReader(c), getMetrics, http.MethodGet)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "\nlvs_up") {
		t.Fatalf("scrape: status %d, body %.200q", res.StatusCode, body)
	}
	c.Close()
}

// slowClient sends first, then one byte of more every 20ms until the
// connection fails or stop is closed.
func slowClient(c net.Conn, first, more string, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Go(func() {
		if _, err := io.WriteString(c, first); err != nil {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; more != ""; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := io.WriteString(c, more[i%len(more):i%len(more)+1]); err != nil {
				return
			}
		}
	})
}

// TestSlowClients: a client that never finishes its request line or
// headers is hung up on at ReadHeaderTimeout, one that trickles a body at
// ReadTimeout, however it trickles; scrapes meanwhile are answered.
func TestSlowClients(t *testing.T) {
	lim := testLimits()
	tests := []struct {
		name        string
		first, more string // more: repeated a byte at a time
		limit       time.Duration
	}{
		{"connects and sends nothing", "", "", lim.readHeader},
		{"request line unfinished", "GET /metr", "", lim.readHeader},
		{"request line a byte at a time", "", "GET /metrics", lim.readHeader},
		{"headers never finished", "GET /metrics HTTP/1.1\r\nHost: a\r\n", "", lim.readHeader},
		{"headers a byte at a time", "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: ", "a", lim.readHeader},
		{"many headers a byte at a time", "GET /metrics HTTP/1.1\r\nHost: a\r\n", "X-A: b\r\n", lim.readHeader},
		{"body trickled", "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", "x", lim.read},
	}
	s := startServer(t, lim, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const clients = 10
			stop := make(chan struct{})
			var wg sync.WaitGroup
			halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
			defer halt()
			t0 := time.Now()
			conns := make([]net.Conn, clients)
			for i := range conns {
				conns[i] = dial(t, s.addr, 0)
				slowClient(conns[i], tt.first, tt.more, stop, &wg)
			}
			scrapeOK(t, s.addr)
			if d := time.Since(t0); d >= lim.readHeader {
				t.Errorf("a scrape beside %d slow clients took %s", clients, d)
			}
			for _, c := range conns {
				within(t, "slow client hung up on", awaitClose(t, c, t0, tt.limit+late), tt.limit)
			}
			halt()
			noConnsLeft(t)
		})
	}
}

// TestHeaderLimit: headers past MaxHeaderBytes (and net/http's 4 KiB of
// slack) get 431 and the connection closed; headers under it are served.
func TestHeaderLimit(t *testing.T) {
	many := strings.Repeat("X-Many: 0123456789\r\n", 1000) // 20 KB in small headers
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"4 KiB header", "X-Big: " + strings.Repeat("a", 4<<10) + "\r\n", http.StatusOK},
		{"64 KiB header", "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"many small headers", many, http.StatusRequestHeaderFieldsTooLarge},
	}
	s := startServer(t, testLimits(), 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr, 0)
			res, body := roundTrip(t, c, bufio.NewReader(c), "GET /metrics HTTP/1.1\r\nHost: a\r\n"+tt.header+"\r\n", http.MethodGet)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %.100q", res.StatusCode, tt.want, body)
			}
			if tt.want != http.StatusOK {
				awaitClose(t, c, time.Now(), time.Second)
			}
			c.Close()
			noConnsLeft(t)
		})
	}
}

// TestRequests: what the server answers to wrong paths and methods,
// requests with bodies, HTTP/1.0 and malformed requests, and whether the
// connection stays open for another request after it.
func TestRequests(t *testing.T) {
	const h11 = " HTTP/1.1\r\nHost: a\r\n"
	allow := map[string]string{"Allow": "GET, HEAD"}
	tests := []struct {
		name     string
		raw      string
		method   string // of the request, for reading the response
		want     int
		header   map[string]string
		body     string // in the response's body
		keepOpen bool   // false: the server closes the connection after the response
	}{
		{"scrape", "GET /metrics" + h11 + "\r\n", "GET", 200, nil, "\nlvs_up", true},
		{"HEAD", "HEAD /metrics" + h11 + "\r\n", "HEAD", 200, map[string]string{"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}, "", true},
		{"landing page", "GET /" + h11 + "\r\n", "GET", 200, nil, `href="/metrics"`, true},
		{"unknown path", "GET /nope" + h11 + "\r\n", "GET", 404, nil, "", true},
		{"below /metrics", "GET /metrics/x" + h11 + "\r\n", "GET", 404, nil, "", true},
		{"query string", "GET /metrics?x=1" + h11 + "\r\n", "GET", 200, nil, "\nlvs_up", true},
		{"POST with a body", "POST /metrics" + h11 + "Content-Length: 5\r\n\r\nhello", "POST", 405, allow, "", true},
		{"PUT", "PUT /metrics" + h11 + "Content-Length: 0\r\n\r\n", "PUT", 405, allow, "", true},
		{"DELETE", "DELETE /metrics" + h11 + "\r\n", "DELETE", 405, allow, "", true},
		{"OPTIONS", "OPTIONS /metrics" + h11 + "\r\n", "OPTIONS", 405, allow, "", true},
		{"unknown method", "BREW /metrics" + h11 + "\r\n", "BREW", 405, allow, "", true},
		{"GET with a body", "GET /metrics" + h11 + "Content-Length: 11\r\n\r\nhello=world", "GET", 200, nil, "\nlvs_up", true},
		{"GET with a chunked body", "GET /metrics" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 200, nil, "\nlvs_up", true},
		{"HTTP/1.0", "GET /metrics HTTP/1.0\r\n\r\n", "GET", 200, nil, "\nlvs_up", false},
		{"HTTP/1.1 Connection: close", "GET /metrics" + h11 + "Connection: close\r\n\r\n", "GET", 200, nil, "\nlvs_up", false},
		{"garbage instead of a request line", "\x00\x01\x02 garbage \xff\r\n\r\n", "GET", 400, nil, "", false},
		{"no Host", "GET /metrics HTTP/1.1\r\n\r\n", "GET", 400, nil, "", false},
		{"header without a colon", "GET /metrics" + h11 + "no colon here\r\n\r\n", "GET", 400, nil, "", false},
		{"unknown HTTP version", "GET /metrics HTTP/3.0\r\nHost: a\r\n\r\n", "GET", 505, nil, "", false},
		{"unknown transfer encoding", "GET /metrics" + h11 + "Transfer-Encoding: rot13\r\n\r\n", "GET", 501, nil, "", false},
		{"bad Content-Length", "GET /metrics" + h11 + "Content-Length: -1\r\n\r\n", "GET", 400, nil, "", false},
	}
	s := startServer(t, testLimits(), 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr, 0)
			br := bufio.NewReader(c)
			res, body := roundTrip(t, c, br, tt.raw, tt.method)
			if res.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %.200q", res.StatusCode, tt.want, body)
			}
			for k, v := range tt.header {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(body, tt.body) || (tt.method == "HEAD" && body != "") {
				t.Errorf("body %.200q, want it to contain %q", body, tt.body)
			}
			if tt.keepOpen {
				if res, body := roundTrip(t, c, br, getMetrics, "GET"); res.StatusCode != 200 {
					t.Errorf("the next request on the connection: status %d: %.200q", res.StatusCode, body)
				}
			} else {
				awaitClose(t, c, time.Now(), time.Second)
			}
			c.Close()
			noConnsLeft(t)
		})
	}
}

// TestSlowReaders: a scraper that reads the body slowly or not at all is
// hung up on at WriteTimeout, counted from its request; one that reads
// gets the whole body. Small socket buffers make the server's writes block
// early, as a large body does with the usual ones.
func TestSlowReaders(t *testing.T) {
	lim := testLimits()
	tests := []struct {
		name  string
		chunk int           // bytes read at a time; 0: nothing until the server gave up
		every time.Duration // between reads
		cut   bool
	}{
		{"never reads", 0, 0, true},
		{"reads 256 bytes every 10ms", 256, 10 * time.Millisecond, true},
		{"reads at once", 64 << 10, 0, false},
	}
	s := startServer(t, lim, 4096)
	_, full := scrape(t, s.e, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr, 4096)
			t0 := time.Now()
			if _, err := io.WriteString(c, getMetrics); err != nil {
				t.Fatal(err)
			}
			var closedAt time.Time
			if tt.chunk == 0 {
				select {
				case closedAt = <-s.closed:
				case <-time.After(lim.write + late):
				}
			}
			c.SetReadDeadline(t0.Add(lim.write + 5*time.Second))
			var got bytes.Buffer
			buf := make([]byte, 64<<10)
			if tt.chunk > 0 {
				buf = buf[:tt.chunk]
			}
			for {
				n, err := c.Read(buf)
				got.Write(buf[:n])
				if err != nil || (!tt.cut && bytes.HasSuffix(got.Bytes(), []byte("0\r\n\r\n"))) {
					break
				}
				time.Sleep(tt.every)
			}
			whole := bytes.Contains(got.Bytes(), full[len(full)-200:]) && got.Len() > len(full)
			if whole == tt.cut {
				t.Errorf("got %d bytes of a %d-byte body, cut: %t, want cut: %t", got.Len(), len(full), !whole, tt.cut)
			}
			if !tt.cut {
				return
			}
			if closedAt.IsZero() {
				select {
				case closedAt = <-s.closed:
				default:
					t.Fatalf("the connection was not closed by the server")
				}
			}
			within(t, "the server hung up", closedAt.Sub(t0), lim.write)
			c.Close()
			noConnsLeft(t)
		})
	}
}

// TestIdleConnections: a keep-alive connection is closed IdleTimeout after
// its last response; a request before then is served and starts the wait
// anew.
func TestIdleConnections(t *testing.T) {
	lim := testLimits()
	tests := []struct {
		name string
		gaps []time.Duration // before each request after the first
	}{
		{"one scrape", nil},
		{"scrapes within the idle timeout", []time.Duration{lim.idle / 2, lim.idle * 3 / 4}},
	}
	s := startServer(t, lim, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr, 0)
			br := bufio.NewReader(c)
			for i := 0; i <= len(tt.gaps); i++ {
				if i > 0 {
					time.Sleep(tt.gaps[i-1])
				}
				if res, body := roundTrip(t, c, br, getMetrics, "GET"); res.StatusCode != 200 {
					t.Fatalf("request %d: status %d: %.200q", i+1, res.StatusCode, body)
				}
			}
			within(t, "idle connection closed", awaitClose(t, c, time.Now(), lim.idle+late), lim.idle)
			noConnsLeft(t)
		})
	}
}

// TestServeStops: Serve returns nil once its context ends, closing idle
// connections at once and cutting those still busy at the shutdown limit;
// the port is closed after it.
func TestServeStops(t *testing.T) {
	tests := []struct {
		name   string
		client string // what the open connection does: "", "idle", "headers", "no read"
		wait   func(l limits) time.Duration
	}{
		{"no connection", "", func(limits) time.Duration { return 0 }},
		{"idle keep-alive connection", "idle", func(limits) time.Duration { return 0 }},
		{"headers never finished", "headers", func(l limits) time.Duration { return l.shutdown }},
		{"scrape not read", "no read", func(l limits) time.Duration { return l.shutdown }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Long read, write and idle limits: only shutting down may end
			// the connection here.
			lim := testLimits()
			lim.readHeader, lim.read, lim.write, lim.idle = time.Minute, time.Minute, time.Minute, time.Minute
			s := startServer(t, lim, 4096)
			var c net.Conn
			switch tt.client {
			case "idle":
				c = dial(t, s.addr, 0)
				roundTrip(t, c, bufio.NewReader(c), getMetrics, "GET")
			case "headers":
				c = dial(t, s.addr, 0)
				io.WriteString(c, "GET /metrics HTTP/1.1\r\n")
			case "no read":
				c = dial(t, s.addr, 4096)
				io.WriteString(c, getMetrics)
			}
			time.Sleep(50 * time.Millisecond) // the server has taken the request up
			err, took := s.stop()
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			within(t, "Serve returned", took, tt.wait(lim))
			if c != nil {
				awaitClose(t, c, time.Now(), time.Second)
			}
			if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections", s.addr)
			}
		})
	}
}
