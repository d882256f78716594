//go:build linux

package procdir

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// listenFDsStart is the first descriptor systemd passes
// (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// ListenFD is a socket systemd passed to procgdb (socket activation).
type ListenFD struct {
	FD int
	// Name is the socket unit's FileDescriptorName=, "unknown" when
	// systemd gave no names.
	Name string
}

// ListenFDs returns the sockets systemd passed to process pid, as
// sd_listen_fds_with_names(3) reads them from the environment (getenv):
// LISTEN_FDS descriptors from 3 on, named by LISTEN_FDNAMES (separated
// by colons), when LISTEN_PID is pid. Variables meant for another process
// (a parent's, inherited) mean none. The caller should then unset the
// three variables, so that programs it starts do not take the sockets for
// theirs, and mark the descriptors close-on-exec (Listener does).
func ListenFDs(getenv func(string) string, pid int) ([]ListenFD, error) {
	switch p, err := strconv.Atoi(getenv("LISTEN_PID")); {
	case getenv("LISTEN_PID") == "" || getenv("LISTEN_FDS") == "":
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("LISTEN_PID=%q: not a PID", getenv("LISTEN_PID"))
	case p != pid:
		return nil, nil
	}
	n, err := strconv.Atoi(getenv("LISTEN_FDS"))
	if err != nil || n < 0 || n > 1<<16 {
		return nil, fmt.Errorf("LISTEN_FDS=%q: not a count of descriptors", getenv("LISTEN_FDS"))
	}
	var names []string
	if s := getenv("LISTEN_FDNAMES"); s != "" {
		names = strings.Split(s, ":")
		if len(names) != n {
			return nil, fmt.Errorf("LISTEN_FDNAMES names %d descriptors, LISTEN_FDS counts %d", len(names), n)
		}
	}
	fds := make([]ListenFD, n)
	for i := range fds {
		fds[i] = ListenFD{FD: listenFDsStart + i, Name: "unknown"}
		if names != nil {
			fds[i].Name = names[i]
		}
	}
	return fds, nil
}

// Listener marks the descriptor close-on-exec and returns it as a
// listener, which owns it from then on.
func (l ListenFD) Listener() (net.Listener, error) {
	unix.CloseOnExec(l.FD)
	f := os.NewFile(uintptr(l.FD), l.Name)
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("socket %q from systemd (descriptor %d): %w", l.Name, l.FD, err)
	}
	return ln, nil
}
