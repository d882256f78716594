//go:build linux

package procdir

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// eventMessage is a message as the proc connector sends it: what, ack,
// and event_data's first words.
func eventMessage(what, ack uint32, data ...uint32) []byte {
	ev := make([]byte, procEventHead+24)
	binary.NativeEndian.PutUint32(ev, what)
	for i, d := range data {
		binary.NativeEndian.PutUint32(ev[procEventHead+4*i:], d)
	}
	return cnMessage(ack, ev)
}

func TestParseProcEvents(t *testing.T) {
	other := eventMessage(procEventFork, 0)
	binary.NativeEndian.PutUint32(other[nlmsgHdrLen:], 7) // another connector index
	short := eventMessage(procEventExec, 0, 1, 1)[:nlmsgHdrLen+cnMsgLen]
	binary.NativeEndian.PutUint32(short, uint32(len(short)))
	for _, tc := range []struct {
		name string
		in   []byte
		want []procEvent
	}{
		{"fork of a process", eventMessage(procEventFork, 0, 10, 10, 11, 11), []procEvent{{what: procEventFork, pid: 11, tgid: 11}}},
		{"fork of a thread", eventMessage(procEventFork, 0, 10, 10, 12, 10), []procEvent{{what: procEventFork, pid: 12, tgid: 10}}},
		{"exec", eventMessage(procEventExec, 0, 13, 13), []procEvent{{what: procEventExec, pid: 13, tgid: 13}}},
		{"uid", eventMessage(procEventUID, 0, 14, 14, 1000, 1000), []procEvent{{what: procEventUID, pid: 14, tgid: 14}}},
		{"exit is not wanted", eventMessage(0x80000000, 0, 15, 15), nil},
		{"comm is not wanted", eventMessage(0x200, 0, 15, 15), nil},
		{"reply", eventMessage(procEventNone, 43, 0), []procEvent{{ack: 43}}},
		{"refusal", eventMessage(procEventNone, 43, uint32(unix.EPERM)), []procEvent{{ack: 43, errno: unix.EPERM}}},
		{"another connector", other, nil},
		{"two messages", append(eventMessage(procEventExec, 0, 1, 1), eventMessage(procEventExec, 0, 2, 2)...),
			[]procEvent{{what: procEventExec, pid: 1, tgid: 1}, {what: procEventExec, pid: 2, tgid: 2}}},
		{"too short for an event", short, nil},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcEvents(tc.in, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	m := eventMessage(procEventExec, 0, 1, 1)
	binary.NativeEndian.PutUint32(m, uint32(len(m)+1))
	_, err := parseProcEvents(m, nil)
	assert.Error(t, err, "a length past the datagram")
}

func TestProcEventProcess(t *testing.T) {
	assert.True(t, procEvent{what: procEventFork, pid: 5, tgid: 5}.process())
	assert.False(t, procEvent{what: procEventFork, pid: 6, tgid: 5}.process())
	assert.True(t, procEvent{what: procEventExec, pid: 6, tgid: 5}.process(), "a thread's exec is its process's")
}

func TestListenMessage(t *testing.T) {
	m := listenMessage(9, 0)
	require.Len(t, m, nlmsgHdrLen+cnMsgLen+4)
	assert.Equal(t, uint32(len(m)), binary.NativeEndian.Uint32(m))
	assert.Equal(t, uint32(9), binary.NativeEndian.Uint32(m[nlmsgHdrLen+12:]))
	assert.Equal(t, uint32(procCnMcastListen), binary.NativeEndian.Uint32(m[nlmsgHdrLen+cnMsgLen:]))
	m = listenMessage(9, procEventFork|procEventExec)
	require.Len(t, m, nlmsgHdrLen+cnMsgLen+8)
	assert.Equal(t, uint32(3), binary.NativeEndian.Uint32(m[nlmsgHdrLen+cnMsgLen+4:]))
}

func FuzzParseProcEvents(f *testing.F) {
	f.Add(eventMessage(procEventFork, 0, 1, 1, 2, 2))
	f.Add(append(eventMessage(procEventNone, 5, 1), eventMessage(procEventUID, 0, 3, 3)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, _ := parseProcEvents(b, nil)
		for _, e := range evs {
			switch e.what {
			case procEventNone, procEventFork, procEventExec, procEventUID:
			default:
				t.Fatalf("event %#x returned", e.what)
			}
		}
	})
}
