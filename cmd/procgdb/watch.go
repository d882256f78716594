package main

import (
	"context"
	"sync/atomic"
)

// Between clients, a tracer watches its processes (target.Tracer.Park):
// one killed from outside meanwhile is reaped at once, as while a client
// is connected, instead of staying in its exit stop until the next client
// comes (or for ever), and gdbserver's line says so.

// watch parks tt's tracer until ctx is done, printing gdbserver's line
// for each of its processes that ends; once the last one has ended, it
// calls lastGone and stops. The channel it returns is closed when it has
// stopped. A tracer with no process is not watched.
func watch(ctx context.Context, tt *tracee, lastGone func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := tt.tr.Park(ctx)
			if err != nil {
				return // ctx is done, or there is nothing to watch
			}
			tt.ended(ev)
			if len(tt.tr.Processes()) == 0 {
				lastGone()
				return
			}
		}
	}()
	return done
}

// acceptWatching waits for the next client while tt's tracer watches its
// processes. It returns a nil conn, and no error, when the last process
// ended before a client came: a server without --multi has nothing left
// to serve.
func acceptWatching(ctx context.Context, tp transport, tt *tracee) (conn, string, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gone atomic.Bool
	done := watch(actx, tt, func() {
		gone.Store(true)
		cancel()
	})
	c, who, err := tp.accept(actx)
	cancel()
	<-done
	if gone.Load() {
		if c != nil {
			c.Close()
		}
		return nil, "", nil
	}
	return c, who, err
}
