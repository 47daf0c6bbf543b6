package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsScrapes(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		hits.Add(1)
		w.Write([]byte("lvs_up 1\n"))
	}))
	defer srv.Close()
	ok, failed := run(srv.URL, 3, 200*time.Millisecond)
	if ok == 0 || failed != 0 || ok > hits.Load() {
		t.Errorf("ok %d, failed %d, server saw %d", ok, failed, hits.Load())
	}
	bad := httptest.NewServer(http.NotFoundHandler())
	defer bad.Close()
	if ok, failed := run(bad.URL, 2, 100*time.Millisecond); ok != 0 || failed == 0 {
		t.Errorf("404s: ok %d, failed %d", ok, failed)
	}
}
