package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// defaultFirstRequestGrace is how long a drain waits for the first request of a
// connection opened before it: one opened to send a request sends it
// within a round trip, one that stays silent is an idle one of a client's
// pool.
const defaultFirstRequestGrace = time.Second

// firstRequestListener terminates TLS on the connections it accepts, and
// hands a connection to the HTTP server only once its first request has
// begun to arrive.
//
// net/http gives a connection kept alive between requests IdleTimeout to
// send its next request, but a new connection only ReadHeaderTimeout, from
// the moment it is accepted, to send its first. HTTP clients, the API
// server among them, dial connections ahead of need and keep the ones they
// did not use in their pool, for up to their own idle timeout (90 s for the
// API server's webhook client). The server used to close those after
// ReadHeaderTimeout (10 s), and a client that took one from its pool just
// as the server closed it wrote its request into a closed connection
// ("write: broken pipe"). The client cannot tell that such a request was
// never received, so it does not send it again: the call fails, and the
// webhook's failurePolicy refuses the pod or admits it without its
// sidecars. Measured: without this listener the load run failed once in
// tens of thousands of requests with "write: broken pipe". Here a new
// connection, like a kept-alive one, waits up to the idle timeout for its
// first request; the header timeout starts when the request does.
// TestConnectionTimeouts' first row fails with net/http's own TLS listener
// (tls.NewListener) in its place: the request sent on a connection silent
// for longer than the header timeout since its handshake gets
// "unexpected EOF".
//
// Holding connections back must not lose their requests in a drain, which
// net/http would have served: see stop.
type firstRequestListener struct {
	inner     net.Listener
	tls       *tls.Config
	handshake time.Duration // bound on the TLS handshake
	idle      time.Duration // bound on the wait for the first request
	log       *slog.Logger

	ready chan net.Conn // connections whose first request has begun
	errs  chan error    // errors of the inner listener's Accept
	done  chan struct{} // closed by Close

	mu      sync.Mutex
	changed sync.Cond // broadcast when waiting or handed shrinks
	// waiting holds the connections accepted and not yet handed on, true
	// once past their handshake.
	waiting map[*tls.Conn]bool
	// handed holds the connections handed on whose first request has not
	// reached a handler yet (see begun).
	handed map[*startedConn]bool
	// drainBy is set by stop: the end of the wait for first requests.
	drainBy time.Time
}

func newFirstRequestListener(inner net.Listener, config *tls.Config, handshake, idle time.Duration, log *slog.Logger) *firstRequestListener {
	l := &firstRequestListener{
		inner: inner, tls: config, handshake: handshake, idle: idle, log: log,
		ready: make(chan net.Conn), errs: make(chan error), done: make(chan struct{}),
		waiting: map[*tls.Conn]bool{}, handed: map[*startedConn]bool{},
	}
	l.changed.L = &l.mu
	go l.acceptLoop()
	return l
}

// Accept returns the next connection whose first request has begun.
func (l *firstRequestListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the connections still waiting for their
// first request (after stop, none is), underneath TLS: a close alert could
// wait on a client that does not read.
func (l *firstRequestListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return nil
	default:
	}
	close(l.done)
	for c := range l.waiting {
		_ = c.NetConn().Close()
	}
	if !l.drainBy.IsZero() {
		return nil // stop closed the inner listener
	}
	return l.inner.Close()
}

func (l *firstRequestListener) Addr() net.Addr { return l.inner.Addr() }

// stop begins a drain: it refuses new connections, and returns once each
// connection accepted before has been handed on and its first request has
// reached a handler, or has been closed. A connection still silent after
// grace is closed, as net/http's shutdown closes idle kept-alive ones. The
// HTTP server's shutdown comes after: net/http drops a request it reads
// once shutting down, so the first requests must be past that before. When ctx
// ends first, what still waits is closed.
func (l *firstRequestListener) stop(ctx context.Context, grace time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.drainBy.IsZero() {
		return
	}
	l.drainBy = time.Now().Add(grace)
	_ = l.inner.Close()
	for c, pastHandshake := range l.waiting {
		if pastHandshake {
			_ = c.SetReadDeadline(l.drainBy)
		}
	}
	wake := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.changed.Broadcast()
	})
	defer wake()
	for len(l.waiting)+len(l.handed) > 0 && ctx.Err() == nil {
		l.changed.Wait()
	}
	for c := range l.waiting {
		_ = c.NetConn().Close() // a handshake that outlasted the drain
	}
}

// begun records that the first request of c has reached a handler, or that
// c was closed (see Server.markBegun).
func (l *firstRequestListener) begun(c net.Conn) {
	sc, ok := c.(*startedConn)
	if !ok || !sc.pending.Swap(false) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.handed, sc)
	l.changed.Broadcast()
}

// acceptLoop accepts connections and waits for each one's first request in
// a goroutine of its own. An error of the inner listener goes to Accept's
// caller, which backs off (net/http does) before calling again; once the
// listener is closed (by stop or Close), Accept learns it from done.
func (l *firstRequestListener) acceptLoop() {
	for {
		raw, err := l.inner.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			continue
		}
		go l.await(tls.Server(raw, l.tls))
	}
}

// await hands c on once its first request has begun, or closes it.
func (l *firstRequestListener) await(c *tls.Conn) {
	if !l.track(c) {
		c.Close()
		return
	}
	started, err := l.firstRequest(c)
	l.untrack(c, started)
	if err != nil {
		c.Close()
		return
	}
	select {
	case l.ready <- started:
	case <-l.done:
		l.begun(started)
		c.Close()
	}
}

// firstRequest completes the handshake and waits for the first byte of
// the first request.
func (l *firstRequestListener) firstRequest(c *tls.Conn) (*startedConn, error) {
	_ = c.SetDeadline(time.Now().Add(l.handshake))
	if err := c.Handshake(); err != nil {
		l.handshakeFailed(c, err)
		return nil, err
	}
	l.pastHandshake(c)
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return nil, err // the client closed it, or it stayed idle too long
	}
	_ = c.SetDeadline(time.Time{})
	sc := &startedConn{Conn: c, first: first[0], unread: true}
	sc.pending.Store(true)
	return sc, nil
}

// pastHandshake gives c the idle timeout, or what is left of a drain, to
// send its first request.
func (l *firstRequestListener) pastHandshake(c *tls.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting[c] = true
	deadline := time.Now().Add(l.idle)
	if !l.drainBy.IsZero() && l.drainBy.Before(deadline) {
		deadline = l.drainBy
	}
	_ = c.SetWriteDeadline(time.Time{})
	_ = c.SetReadDeadline(deadline)
}

// handshakeFailed logs a failed handshake, and answers a plain HTTP
// request with a 400 that says why, as net/http does.
func (l *firstRequestListener) handshakeFailed(c *tls.Conn, err error) {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && rh.Conn != nil && looksLikeHTTP(rh.RecordHeader) {
		_, _ = io.WriteString(rh.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		err = errors.New("client sent an HTTP request to an HTTPS server")
	}
	l.log.Warn("TLS handshake failed", "remote", c.RemoteAddr().String(), "error", err)
}

func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

func (l *firstRequestListener) track(c *tls.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return false
	default:
		l.waiting[c] = false
		return true
	}
}

// untrack moves c from waiting to handed when its first request began
// (started is not nil), else drops it.
func (l *firstRequestListener) untrack(c *tls.Conn, started *startedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.waiting, c)
	if started != nil {
		l.handed[started] = true
	}
	l.changed.Broadcast()
}

// startedConn is a connection whose first byte was read to learn that its
// first request had begun; Read gives that byte back first. It keeps
// *tls.Conn's ConnectionState, from which net/http fills Request.TLS.
type startedConn struct {
	*tls.Conn
	first  byte
	unread bool
	// pending is true until the HTTP server has read the first request.
	pending atomic.Bool
}

func (c *startedConn) Read(p []byte) (int, error) {
	if c.unread && len(p) > 0 {
		p[0], c.unread = c.first, false
		return 1, nil
	}
	return c.Conn.Read(p)
}
