package agent

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// socketPair returns a pollConn and the peer end of a Unix socket.
func socketPair(t *testing.T, writeTimeout time.Duration) (*pollConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pc, err := newPollConn(c, writeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { pc.Close(); peer.Close() })
	return pc, peer
}

func TestPollConnRoundTripAndEOF(t *testing.T) {
	pc, peer := socketPair(t, time.Second)
	if _, err := pc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "ping" {
		t.Fatalf("peer read %q, %v", got, err)
	}
	peer.Write([]byte("pong"))
	peer.Close()
	all, err := io.ReadAll(pc)
	if err != nil || string(all) != "pong" {
		t.Fatalf("read %q, %v; want pong then EOF", all, err)
	}
}

// Close must wake a read waiting for input, which is how a session ends on
// a ping timeout or shutdown while the master is silent, and a write
// waiting for space in a master that stopped reading.
func TestPollConnCloseWakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(*pollConn) error
	}{
		{"read", func(pc *pollConn) error { _, err := pc.Read(make([]byte, 16)); return err }},
		{"write", func(pc *pollConn) error { _, err := pc.Write(bytes.Repeat([]byte{1}, 8<<20)); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc, _ := socketPair(t, time.Minute)
			done := make(chan error, 1)
			go func() { done <- tc.op(pc) }()
			time.Sleep(50 * time.Millisecond) // let the call start waiting
			pc.Close()
			select {
			case err := <-done:
				if err == nil {
					t.Fatalf("%s returned no error after Close", tc.name)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Close did not wake the waiting %s", tc.name)
			}
			if _, err := pc.Write([]byte("x")); err == nil {
				t.Error("write after Close succeeded")
			}
		})
	}
}

// A master that stops reading must not hang the writer for ever.
func TestPollConnWriteStalls(t *testing.T) {
	pc, _ := socketPair(t, 100*time.Millisecond)
	big := bytes.Repeat([]byte{1}, 1<<20)
	var err error
	for range 64 {
		if _, err = pc.Write(big); err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %v, want a deadline error", err)
	}
}

// A walk is one round trip per varbind: garbage made per request would
// grow the heap, and the RSS, with the size of the walk.
func TestPollConnRoundTripAllocatesNothing(t *testing.T) {
	pc, peer := socketPair(t, time.Second)
	go func() { // echo
		b := make([]byte, 64)
		for {
			n, err := peer.Read(b)
			if err != nil {
				return
			}
			if _, err := peer.Write(b[:n]); err != nil {
				return
			}
		}
	}()
	req, resp := []byte("ping"), make([]byte, 64)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := pc.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(pc, resp[:len(req)]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}

// A write larger than the socket's buffer waits for space and finishes
// once the peer reads: the path a large GetBulk answer takes.
func TestPollConnWriteWaitsForSpace(t *testing.T) {
	pc, peer := socketPair(t, 5*time.Second)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(big))
		io.ReadFull(peer, b)
		got <- b
	}()
	if n, err := pc.Write(big); err != nil || n != len(big) {
		t.Fatalf("write = %d, %v; want %d, nil", n, err, len(big))
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatal("peer read other bytes than were written")
	}
	// The wait's deadline is gone: a later write goes through.
	if _, err := pc.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
}
