//go:build linux

package procdir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// The kernel's process events connector (include/uapi/linux/connector.h
// and cn_proc.h): a netlink socket of family NETLINK_CONNECTOR joined to
// the CN_IDX_PROC group, switched on with PROC_CN_MCAST_LISTEN.
const (
	cnIdxProc = 1 // CN_IDX_PROC
	cnValProc = 1 // CN_VAL_PROC

	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN

	procEventNone = 0x0 // PROC_EVENT_NONE: the reply to a LISTEN
	procEventFork = 0x1 // PROC_EVENT_FORK
	procEventExec = 0x2 // PROC_EVENT_EXEC
	procEventUID  = 0x4 // PROC_EVENT_UID

	nlmsgHdrLen = 16 // struct nlmsghdr
	cnMsgLen    = 20 // struct cn_msg, before its data
	// procEventHead is what, cpu and timestamp_ns of struct proc_event,
	// before event_data.
	procEventHead = 16

	// eventsBuffer is the socket's receive buffer: a burst of forks
	// beyond it is lost (ENOBUFS), and the watcher scans /proc instead.
	eventsBuffer = 4 << 20
)

// procEvent is one process event that matters to the directory: a
// process appeared (fork), ran another program (exec) or changed its
// user ids (uid); pid and tgid are the thread's and its process's. A
// reply to a LISTEN (what procEventNone) carries the request's ack plus
// one, and the kernel's errno.
type procEvent struct {
	what      uint32
	pid, tgid int
	ack       uint32
	errno     unix.Errno
}

// process tells whether the event is about a whole process rather than
// one of its other threads: a thread's fork is a new thread, and exec and
// credential changes are reported for the process as a whole.
func (e procEvent) process() bool { return e.what != procEventFork || e.pid == e.tgid }

// parseProcEvents appends the fork, exec and uid events, and the replies
// to a LISTEN, in b (the netlink messages of one datagram) to dst. Other
// events and messages are skipped.
func parseProcEvents(b []byte, dst []procEvent) ([]procEvent, error) {
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b))
		if n < nlmsgHdrLen || n > len(b) {
			return dst, fmt.Errorf("netlink message of %d bytes in %d", n, len(b))
		}
		msg := b[nlmsgHdrLen:n]
		b = b[min(nlmsgAlign(n), len(b)):]
		// struct cn_msg: id.idx, id.val, seq, ack, len, flags.
		if len(msg) < cnMsgLen+procEventHead+8 ||
			binary.NativeEndian.Uint32(msg) != cnIdxProc || binary.NativeEndian.Uint32(msg[4:]) != cnValProc {
			continue
		}
		ev := msg[cnMsgLen:]
		e := procEvent{what: binary.NativeEndian.Uint32(ev)}
		data := ev[procEventHead:]
		switch e.what {
		case procEventNone:
			e.ack = binary.NativeEndian.Uint32(msg[12:])
			e.errno = unix.Errno(binary.NativeEndian.Uint32(data))
		case procEventFork:
			// parent_pid, parent_tgid, child_pid, child_tgid
			if len(data) < 16 {
				continue
			}
			e.pid, e.tgid = int(binary.NativeEndian.Uint32(data[8:])), int(binary.NativeEndian.Uint32(data[12:]))
		case procEventExec, procEventUID:
			// process_pid, process_tgid, ...
			e.pid, e.tgid = int(binary.NativeEndian.Uint32(data)), int(binary.NativeEndian.Uint32(data[4:]))
		default:
			continue
		}
		dst = append(dst, e)
	}
	return dst, nil
}

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// cnMessage frames data as a netlink message to or from the proc
// connector, with ack in its cn_msg.
func cnMessage(ack uint32, data []byte) []byte {
	m := make([]byte, nlmsgHdrLen+cnMsgLen, nlmsgHdrLen+cnMsgLen+len(data))
	binary.NativeEndian.PutUint32(m, uint32(cap(m)))
	binary.NativeEndian.PutUint16(m[4:], unix.NLMSG_DONE)
	c := m[nlmsgHdrLen:]
	binary.NativeEndian.PutUint32(c, cnIdxProc)
	binary.NativeEndian.PutUint32(c[4:], cnValProc)
	binary.NativeEndian.PutUint32(c[12:], ack)
	binary.NativeEndian.PutUint16(c[16:], uint16(len(data)))
	return append(m, data...)
}

// listenMessage is PROC_CN_MCAST_LISTEN, with ack for the kernel's reply
// to echo plus one. With events set (a struct proc_input), kernels from
// 6.6 on send only those events; older kernels ignore the message.
func listenMessage(ack, events uint32) []byte {
	data := binary.NativeEndian.AppendUint32(nil, procCnMcastListen)
	if events != 0 {
		data = binary.NativeEndian.AppendUint32(data, events)
	}
	return cnMessage(ack, data)
}

// openEvents subscribes to the kernel's process events and returns the
// socket, non-blocking. It fails where procgdb may not listen: without
// CAP_NET_ADMIN (joining the connector's group is privileged), and
// outside the first PID and user namespaces, where the kernel ignores the
// request (its events speak of those namespaces' PIDs and ids).
func openEvents() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return -1, fmt.Errorf("process events: %w", err)
	}
	if err := subscribe(fd); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("process events: %w", err)
	}
	return fd, nil
}

func subscribe(fd int) error {
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return fmt.Errorf("join the group: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, eventsBuffer); err != nil {
		// CAP_NET_ADMIN over the network namespace only: as much as
		// net.core.rmem_max allows.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, eventsBuffer)
	}
	// The kernel replies to a plain LISTEN within the send (the
	// connector runs its callback in the sender's context); the timeout
	// only bounds the wait where it ignores the request.
	tv := unix.Timeval{Usec: 500_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	ack := uint32(os.Getpid())
	if err := unix.Sendto(fd, listenMessage(ack, 0), 0, kernel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	buf := make([]byte, 4096)
	var evs []procEvent
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) {
			return errors.New("no reply to listen (outside the first PID and user namespaces?)")
		}
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		if evs, err = parseProcEvents(buf[:n], evs[:0]); err != nil {
			return err
		}
		if i := slices.IndexFunc(evs, func(e procEvent) bool { return e.what == procEventNone && e.ack == ack+1 }); i >= 0 {
			if evs[i].errno != 0 {
				return fmt.Errorf("listen: %w", evs[i].errno)
			}
			break
		}
	}
	// Narrow the events to those the directory needs (exits come from
	// pidfds). The kernel sends no reply to this one: its filter drops
	// replies too.
	if err := unix.Sendto(fd, listenMessage(ack, procEventFork|procEventExec|procEventUID), 0, kernel); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	return unix.SetNonblock(fd, true)
}
