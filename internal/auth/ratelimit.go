package auth

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimitError reports that too many token requests failed recently for
// the client id or the remote address, and when to try again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("auth: too many failed attempts, retry after %s", e.RetryAfter)
}

// RateLimit bounds failed token requests: each client id and each remote
// address may fail Burst times in a row, and earns one more attempt every
// Every. Zero fields take the defaults, 10 and 6 s (10 failures a minute).
type RateLimit struct {
	Burst int
	Every time.Duration
}

const (
	defaultRateBurst = 10
	defaultRateEvery = 6 * time.Second
	// maxLimiterKeys bounds the memory of one failure limiter.
	maxLimiterKeys = 10000
)

// failureLimiter counts failures per key with a token bucket each. Keys whose
// bucket is full again are forgotten, and the table never holds more than
// max keys, so memory stays bounded whatever the callers send.
type failureLimiter struct {
	limit rate.Limit
	burst int
	max   int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newFailureLimiter(rl RateLimit) *failureLimiter {
	if rl.Burst <= 0 {
		rl.Burst = defaultRateBurst
	}
	if rl.Every <= 0 {
		rl.Every = defaultRateEvery
	}
	return &failureLimiter{
		limit:   rate.Every(rl.Every),
		burst:   rl.Burst,
		max:     maxLimiterKeys,
		buckets: make(map[string]*rate.Limiter),
	}
}

// wait returns how long key must wait before its next attempt, zero when
// it may try now.
func (l *failureLimiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	secs := (1 - tokens) / float64(l.limit)
	return time.Duration(math.Ceil(secs * float64(time.Second)))
}

// fail records a failed attempt by key.
func (l *failureLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	b.AllowN(now, 1)
}

// sweep forgets the keys whose bucket has refilled, which behave exactly
// like unknown keys; if that frees nothing it forgets arbitrary keys, a
// bounded-memory trade-off that the per-address limit backs up. The caller
// holds l.mu.
func (l *failureLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max {
			break
		}
		delete(l.buckets, k)
	}
}

// size returns the number of keys held, for tests.
func (l *failureLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
