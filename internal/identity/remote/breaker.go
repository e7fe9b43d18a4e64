package remote

import (
	"fmt"
	"sync"
	"time"
)

// breaker is a circuit breaker counting consecutive failed calls. Closed, it
// lets every call through; after threshold failures it opens and refuses
// calls until cooldown has passed; then it is half-open and lets exactly one
// trial call through, whose outcome closes it or opens it again.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu       sync.Mutex
	failures int       // consecutive failed calls
	openedAt time.Time // zero while closed
	trial    bool      // a half-open trial call is in flight
}

// allow reports whether a call may start now; the error wraps ErrCircuitOpen.
func (b *breaker) allow(now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openedAt.IsZero() {
		return nil
	}
	if wait := b.openedAt.Add(b.cooldown).Sub(now); wait > 0 {
		return fmt.Errorf("%w after %d failed calls; retry in %s", ErrCircuitOpen, b.failures, wait.Round(time.Millisecond))
	}
	if b.trial {
		return fmt.Errorf("%w: a trial call is in flight", ErrCircuitOpen)
	}
	b.trial = true
	return nil
}

// record notes the outcome of a call that allow let through.
func (b *breaker) record(now time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if ok {
		b.failures = 0
		b.openedAt = time.Time{}
		return
	}
	b.failures++
	if b.failures >= b.threshold || !b.openedAt.IsZero() {
		b.openedAt = now
	}
}

// release ends a call that allow let through without judging the service,
// such as one its caller abandoned.
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}
