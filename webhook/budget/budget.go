// Package budget bounds the memory that the webhook's requests hold at
// once, so that no client, however large the pods it sends, takes the
// process past its container's memory limit.
//
// Before a request allocates much (reads a large body, decodes a pod
// whole), it reserves what that will take. A reservation that does not fit
// waits a short while for others to end, and is refused when it still
// does not fit, or at once when it is larger than the whole budget. Small
// reservations do not queue behind a large one that waits: an ordinary pod
// is answered whenever there is room for it.
//
// When a large reservation ends and no other is in flight, the budget has
// the runtime return the freed memory to the operating system
// (debug.FreeOSMemory), so that the process's resident memory falls back
// to its steady level after a burst of large pods instead of staying at
// its peak until the runtime's scavenger gets to it.
package budget

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Budget is a number of bytes that reservations share. It is safe for
// concurrent use.
type Budget struct {
	size int64
	wait time.Duration
	// large is the size from which a reservation is large: when the last
	// large one in flight ends, freed memory goes back to the system.
	large int64
	// freeOSMemory is debug.FreeOSMemory; tests count its calls.
	freeOSMemory func()
	// freeDelay lets the request whose reservation ended return and drop
	// its references before the collection that frees them.
	freeDelay time.Duration

	mu       sync.Mutex
	used     int64
	inFlight int           // large reservations held
	released chan struct{} // closed, and replaced, at each release
	freeing  bool          // a return of memory to the system is scheduled
}

// New returns a budget of size bytes whose reservations wait at most wait
// for room.
func New(size int64, wait time.Duration) *Budget {
	return &Budget{
		size: size, wait: wait, large: 1 << 20,
		freeOSMemory: debug.FreeOSMemory, freeDelay: 100 * time.Millisecond,
		released: make(chan struct{}),
	}
}

// Error is a reservation refused.
type Error struct {
	Need, Size int64
	// Busy: the reservation fits the budget but not what others held for
	// as long as it could wait. Otherwise it is larger than the budget.
	Busy bool
	Wait time.Duration
}

func (e *Error) Error() string {
	if e.Busy {
		return fmt.Sprintf("%s of memory not available within %s: requests in flight hold the webhook's %s", mib(e.Need), e.Wait, mib(e.Size))
	}
	return fmt.Sprintf("needs %s of memory, more than the webhook's %s for all requests in flight", mib(e.Need), mib(e.Size))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Reserve holds n bytes of the budget until release is called (once; more
// calls do nothing). It waits for room up to the budget's wait time or
// until ctx ends, and returns an *Error when there is none, or at once
// when n is larger than the budget.
func (b *Budget) Reserve(ctx context.Context, n int64) (release func(), err error) {
	if n > b.size {
		return nil, &Error{Need: n, Size: b.size}
	}
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.size {
			b.used += n
			if n >= b.large {
				b.inFlight++
			}
			b.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { b.release(n) }) }, nil
		}
		released := b.released
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-released:
		case <-timeout:
			return nil, &Error{Need: n, Size: b.size, Busy: true, Wait: b.wait}
		case <-ctx.Done():
			return nil, &Error{Need: n, Size: b.size, Busy: true, Wait: b.wait}
		}
	}
}

func (b *Budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.released)
	b.released = make(chan struct{})
	if n < b.large {
		return
	}
	b.inFlight--
	if b.inFlight == 0 && !b.freeing {
		b.freeing = true
		time.AfterFunc(b.freeDelay, b.returnMemory)
	}
}

// returnMemory gives freed memory back to the system, unless a large
// reservation began since: its own end will.
func (b *Budget) returnMemory() {
	b.mu.Lock()
	b.freeing = false
	idle := b.inFlight == 0
	b.mu.Unlock()
	if idle {
		b.freeOSMemory()
	}
}
