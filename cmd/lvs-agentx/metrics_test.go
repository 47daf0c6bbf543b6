package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lvs-agentx/lvs-agentx/internal/testutil"
)

// asCommandEnv, set to 1, makes the test binary the lvs-agentx command
// (TestMain runs main): the tests start the agent as its own process, its
// flags, signals and exit status as in production.
const asCommandEnv = "GO_TEST_LVS_AGENTX_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommandEnv) == "1" {
		main()
		return // main exits
	}
	os.Exit(m.Run())
}

// command returns the lvs-agentx command line args, without the
// LVS_AGENTX_ variables of the environment the tests run in.
func command(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LVS_AGENTX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, asCommandEnv+"=1")
	return cmd
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startAgent runs "lvs-agentx run" with snmpd absent, serving metrics on a
// free port of 127.0.0.1 with the extra args, and returns that address once
// it accepts connections. The cleanup stops the agent with SIGTERM and
// checks that it stops cleanly.
func startAgent(t *testing.T, extra ...string) (addr string, log *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(testutil.FreePort(t, "tcp")))
	args := append([]string{"run", "--agentx", "/nonexistent/sock", "--state-file", filepath.Join(dir, "s.json"),
		"--metrics-listen", addr}, extra...)
	cmd := command(context.Background(), t, args...)
	log = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil || !strings.Contains(log.String(), "lvs-agentx stopped") {
				t.Errorf("the agent did not stop cleanly on SIGTERM: %v\n%s", err, testutil.Tail(log.String(), 20))
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("the agent did not stop within 10s of SIGTERM\n%s", testutil.Tail(log.String(), 20))
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the agent exited: %v\n%s", err, testutil.Tail(log.String(), 20))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, log
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after 10s\n%s", addr, testutil.Tail(log.String(), 20))
		}
	}
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and its
// key to dir as cert.pem and key.pem.
func writeCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lvs-agentx test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		// Its own CA, so that curl --cacert can trust it.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: der},
		"key.pem": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// writeWebConfig writes an exporter-toolkit web configuration to dir and
// returns its path.
func writeWebConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsAuthConfig is a web configuration with TLS from cert.pem and key.pem
// (beside it) and the basic auth user prometheus, password pass.
func tlsAuthConfig(t *testing.T, pass string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"+
		"basic_auth_users:\n  prometheus: %s\n", hash)
}

// curl fetches url with args and returns curl's exit status, the HTTP
// status ("000" for none), the body and curl's error message.
func curl(t *testing.T, url string, args ...string) (exit int, status, body, msg string) {
	t.Helper()
	bin := testutil.NeedTool(t, "curl", "apt-get install -y curl")
	bodyFile := filepath.Join(t.TempDir(), "body")
	args = append([]string{"-sS", "--max-time", "10", "-o", bodyFile, "-w", "%{http_code}"}, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("curl: %v", err)
	}
	b, _ := os.ReadFile(bodyFile) // none when curl got no response
	return cmd.ProcessState.ExitCode(), stdout.String(), string(b), stderr.String()
}

// lvsUp is the agent's lvs_up sample: 0 on a host without IPVS.
var lvsUp = regexp.MustCompile(`(?m)^lvs_up [01]$`)

// TestMetricsEndpointCurl: the agent serves /metrics over TLS with basic
// auth as --web.config.file says, and plain HTTP without it, as curl sees
// them.
func TestMetricsEndpointCurl(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir)
	const pass = "correct horse"
	webConfig := writeWebConfig(t, dir, tlsAuthConfig(t, pass))
	cacert := filepath.Join(dir, "cert.pem")
	tests := []struct {
		name     string
		tls      bool // the agent serves with the web configuration
		scheme   string
		path     string
		args     []string
		exit     int    // curl's exit status: 60 an untrusted certificate, 35 a failed TLS handshake
		status   string // "000": no response
		wantBody string // a regexp the body matches
	}{
		{"TLS, right password", true, "https", "/metrics", []string{"--cacert", cacert, "-u", "prometheus:" + pass}, 0, "200", lvsUp.String()},
		{"TLS, landing page", true, "https", "/", []string{"--cacert", cacert, "-u", "prometheus:" + pass}, 0, "200", `href="/metrics"`},
		{"TLS, wrong password", true, "https", "/metrics", []string{"--cacert", cacert, "-u", "prometheus:wrong"}, 0, "401", `^Unauthorized`},
		{"TLS, unknown user", true, "https", "/metrics", []string{"--cacert", cacert, "-u", "grafana:" + pass}, 0, "401", `^Unauthorized`},
		{"TLS, no credentials", true, "https", "/metrics", []string{"--cacert", cacert}, 0, "401", `^Unauthorized`},
		{"TLS, certificate not trusted", true, "https", "/metrics", []string{"-u", "prometheus:" + pass}, 60, "000", `^$`},
		{"TLS, plain HTTP", true, "http", "/metrics", []string{"-u", "prometheus:" + pass}, 0, "400", `HTTP request to an HTTPS server`},
		{"plain", false, "http", "/metrics", nil, 0, "200", lvsUp.String()},
		{"plain, HTTPS", false, "https", "/metrics", []string{"--cacert", cacert}, 35, "000", `^$`},
	}
	tlsAddr, tlsLog := startAgent(t, "--web.config.file", webConfig)
	plainAddr, _ := startAgent(t)
	if !strings.Contains(tlsLog.String(), "TLS is enabled") {
		t.Errorf("the agent with a web configuration does not say TLS is on:\n%s", testutil.Tail(tlsLog.String(), 20))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := plainAddr
			if tt.tls {
				addr = tlsAddr
			}
			exit, status, body, msg := curl(t, tt.scheme+"://"+addr+tt.path, tt.args...)
			if exit != tt.exit || status != tt.status {
				t.Errorf("curl exit %d, HTTP status %s; want %d, %s (%s)", exit, status, tt.exit, tt.status, strings.TrimSpace(msg))
			}
			if !regexp.MustCompile(tt.wantBody).MatchString(body) {
				t.Errorf("body %.300q, want it to match %q", body, tt.wantBody)
			}
		})
	}
}

// TestBadWebConfig: a web configuration the endpoint could not serve with
// stops the agent at start, exit status 2, with one line naming the file
// and what is wrong in it.
func TestBadWebConfig(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir)
	otherKey := t.TempDir()
	writeCert(t, otherKey)
	tls := "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
	tests := []struct {
		name   string
		config string
		want   string // in the message, after the file's name
	}{
		{"cert file missing", "tls_server_config:\n  cert_file: missing.pem\n  key_file: key.pem\n", "missing.pem"},
		{"key file missing", "tls_server_config:\n  cert_file: cert.pem\n  key_file: missing-key.pem\n", "missing-key.pem"},
		{"key of another certificate", "tls_server_config:\n  cert_file: cert.pem\n  key_file: " + filepath.Join(otherKey, "key.pem") + "\n", "private key does not match public key"},
		{"key file only", "tls_server_config:\n  key_file: key.pem\n", "cert_file"},
		{"malformed YAML", "tls_server_config: [\n", "yaml"},
		{"unknown field", "tls_server_confg:\n  cert_file: cert.pem\n", "field tls_server_confg not found"},
		{"password not hashed", tls + "basic_auth_users:\n  prometheus: correct horse\n", "bcrypt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeWebConfig(t, dir, tt.config)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := command(ctx, t, "run", "--agentx", "/nonexistent/sock", "--state-file", filepath.Join(t.TempDir(), "s.json"),
				"--metrics-listen", "127.0.0.1:0", "--web.config.file", file)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				t.Errorf("exit %d (%v), want 2; stderr:\n%s", code, err, stderr.String())
			}
			msg := stderr.String()
			prefix := "lvs-agentx run: --web.config.file: web config " + file + ": "
			if stdout.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, prefix) ||
				!strings.Contains(msg[len(prefix):], tt.want) {
				t.Errorf("stdout %q, stderr %q; want one line starting %q, containing %q", stdout.String(), msg, prefix, tt.want)
			}
		})
	}
}
