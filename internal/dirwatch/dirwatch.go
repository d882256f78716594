//go:build linux

// Package dirwatch reports the names made in and removed from a
// directory (inotify), each with the time it was read: procgdb's
// benchmarks of --proc-dir time each socket's appearance with it.
package dirwatch

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Event is a name renamed into the directory (Made: as a socket is
// published) or removed from it, read at At.
type Event struct {
	Name string
	Made bool
	At   time.Time
}

// Watcher reports a directory's events on C until Close.
type Watcher struct {
	C <-chan Event
	f *os.File
}

// Watch starts reporting dir's events; C holds up to buffer of them
// before the watcher waits for its reader.
func Watch(dir string, buffer int) (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO|unix.IN_DELETE); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("inotify %s: %w", dir, err)
	}
	// Non-blocking, so that Close ends a Read in Go's poller.
	f := os.NewFile(uintptr(fd), "inotify")
	c := make(chan Event, buffer)
	go func() {
		defer close(c)
		buf := make([]byte, 1<<20)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			at := time.Now()
			for p := buf[:n]; len(p) >= unix.SizeofInotifyEvent; {
				// struct inotify_event: wd, mask, cookie, len, name.
				mask := binary.NativeEndian.Uint32(p[4:])
				end := unix.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(p[12:]))
				if mask&(unix.IN_MOVED_TO|unix.IN_DELETE) != 0 {
					name := strings.TrimRight(string(p[unix.SizeofInotifyEvent:end]), "\x00")
					c <- Event{Name: name, Made: mask&unix.IN_MOVED_TO != 0, At: at}
				}
				p = p[end:]
			}
		}
	}()
	return &Watcher{C: c, f: f}, nil
}

// Close stops the watcher; C is closed.
func (w *Watcher) Close() error { return w.f.Close() }

// Until hands events to done until it returns true; it fails when the
// watcher stops or timeout passes first, saying what it waited for.
func (w *Watcher) Until(what string, timeout time.Duration, done func(Event) bool) error {
	expire := time.After(timeout)
	for {
		select {
		case e, ok := <-w.C:
			if !ok {
				return fmt.Errorf("%s: the watch stopped", what)
			}
			if done(e) {
				return nil
			}
		case <-expire:
			return fmt.Errorf("%s: not within %v", what, timeout)
		}
	}
}
