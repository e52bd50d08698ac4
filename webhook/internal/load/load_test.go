package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A run that reaches its Duration lets the requests in flight finish, so
// the next run on the same Client finds its connections open, as the API
// server's stay open from one admission request to the next.
func TestRunsKeepTheirConnections(t *testing.T) {
	var dialled atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // always a request in flight at the deadline
		w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const clients = 4
	client := srv.Client()
	// One connection per client at the most: a request that comes just
	// before the answer's connection is back in the pool waits for it
	// instead of dialling another (a race that a loaded machine widens).
	// A run that closed its connections still makes the next one dial.
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	client.Transport.(*http.Transport).MaxConnsPerHost = clients
	o := Options{URL: srv.URL, Body: []byte("{}"), Client: client, Clients: clients, MaxRequests: 1 << 20, Duration: 100 * time.Millisecond}
	for run := range 3 {
		r, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed+r.Refused > 0 || r.Succeeded < clients || r.Sent != r.Succeeded {
			t.Fatalf("run %d: %v; errors %q", run, r, r.Errors)
		}
	}
	if n := dialled.Load(); n != clients {
		t.Errorf("%d connections dialled over three runs of %d clients, want %d", n, clients, clients)
	}
}

// Ending the context cuts the requests in flight short; they count as
// neither sent nor failed.
func TestRunEndsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, Options{URL: srv.URL, Client: srv.Client(), Clients: 2, MaxRequests: 10, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the run took %v after its context ended", elapsed)
	}
	if r.Sent != 0 || r.Failed != 0 {
		t.Errorf("requests cut short were counted: %v", r)
	}
}
