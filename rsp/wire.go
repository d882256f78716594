package rsp

// The protocol's syntax as a client needs it, exported for package client
// (rsp/client), which builds a typed client on Client. Each function here
// is the other half of something the session decodes or encodes, so the
// two ends share one implementation and are tested against each other.

// ParseThreadID decodes a thread id as a stub writes it ("TID",
// "pPID.TID", "pPID", "-1", "0"). A bare thread id has PID AnyThread.
func ParseThreadID(b []byte) (ThreadID, error) {
	return parseThreadID(b)
}

// AppendThreadID appends id as a packet carries it: "pPID.TID" when the
// multiprocess feature was agreed, the TID alone otherwise; AllThreads is
// written "-1".
func AppendThreadID(dst []byte, id ThreadID, multiprocess bool) []byte {
	return appendThreadID(dst, id, multiprocess)
}

// GDBSignal returns gdb's number for the Linux signal sig: what resume
// packets carry, unless the stub speaks Linux numbers (native-signals+).
func GDBSignal(sig int) int {
	return gdbSignal(sig)
}

// HostSignal returns the Linux number of gdb's signal sig; ok is false
// when Linux has no such signal.
func HostSignal(sig int) (host int, ok bool) {
	return hostSignal(sig)
}
