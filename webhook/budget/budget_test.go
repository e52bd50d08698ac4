package budget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReserve(t *testing.T) {
	b := New(100, 50*time.Millisecond)
	ctx := context.Background()

	// Larger than the budget: refused at once, without waiting.
	start := time.Now()
	_, err := b.Reserve(ctx, 101)
	var be *Error
	if !errors.As(err, &be) || be.Busy || be.Need != 101 || be.Size != 100 || time.Since(start) > 20*time.Millisecond {
		t.Fatalf("reserving more than the budget: %v after %v, want a refusal at once", err, time.Since(start))
	}
	if want := "needs 0.0 MiB of memory, more than the webhook's 0.0 MiB for all requests in flight"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}

	// The whole budget, then nothing left: a reservation waits, then is
	// refused as busy.
	release, err := b.Reserve(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = b.Reserve(ctx, 1)
	if !errors.As(err, &be) || !be.Busy || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("reserving from a full budget: %v after %v, want busy after the wait", err, time.Since(start))
	}

	// Released twice, it is released once.
	release()
	release()
	r1, err1 := b.Reserve(ctx, 100)
	if err1 != nil {
		t.Fatalf("the whole budget after release: %v", err1)
	}
	if _, err := b.Reserve(ctx, 1); err == nil {
		t.Fatal("a second release freed the budget twice")
	}
	r1()

	// A context that ends stops the wait.
	r2, _ := b.Reserve(ctx, 100)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Reserve(cctx, 1); !errors.As(err, &be) || !be.Busy {
		t.Errorf("with the context ended: %v, want busy", err)
	}
	r2()
}

// A reservation that waits gets in when another ends.
func TestReserveWaitsForRelease(t *testing.T) {
	b := New(100, 5*time.Second)
	release, _ := b.Reserve(context.Background(), 80)
	time.AfterFunc(30*time.Millisecond, release)
	start := time.Now()
	r, err := b.Reserve(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 25*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v, want until the release (30ms)", d)
	}
	r()
}

// An ordinary request does not queue behind a large one that waits for
// room: it gets in as soon as it fits.
func TestSmallDoesNotQueueBehindLarge(t *testing.T) {
	b := New(100, time.Second)
	ctx := context.Background()
	held, _ := b.Reserve(ctx, 60)
	defer held()
	largeDone := make(chan error)
	go func() {
		r, err := b.Reserve(ctx, 50)
		if err == nil {
			r()
		}
		largeDone <- err
	}()
	time.Sleep(20 * time.Millisecond) // the large one is waiting
	start := time.Now()
	small, err := b.Reserve(ctx, 10)
	if err != nil || time.Since(start) > 20*time.Millisecond {
		t.Fatalf("small reservation beside a waiting large one: %v after %v", err, time.Since(start))
	}
	small()
	if err := <-largeDone; err == nil {
		t.Error("the large reservation got room that was held")
	}
}

// Memory goes back to the system when the last large reservation in
// flight ends, once however many overlapped, never for small ones.
func TestReturnsMemoryAfterLargeReservations(t *testing.T) {
	b := New(100<<20, time.Second)
	var calls atomic.Int32
	b.freeOSMemory = func() { calls.Add(1) }
	b.freeDelay = 10 * time.Millisecond
	ctx := context.Background()
	wait := func() { time.Sleep(50 * time.Millisecond) }

	small, _ := b.Reserve(ctx, 64<<10)
	small()
	wait()
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d returns of memory after a small reservation, want none", n)
	}

	var wg sync.WaitGroup
	releases := make([]func(), 4)
	for i := range releases {
		releases[i], _ = b.Reserve(ctx, 16<<20)
	}
	for _, r := range releases {
		wg.Go(r)
	}
	wg.Wait()
	wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d returns of memory after four overlapping large reservations, want one", n)
	}

	// A large reservation that begins before the return is due takes it
	// over: memory goes back once, when it ends.
	r1, _ := b.Reserve(ctx, 16<<20)
	r1()
	r2, _ := b.Reserve(ctx, 16<<20)
	wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("memory returned while a large reservation was in flight (%d calls)", n)
	}
	r2()
	wait()
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d returns of memory, want 2", n)
	}
}
