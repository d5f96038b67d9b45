package binarycache

import "runtime"

type runtimeMem struct{ ms runtime.MemStats }

func (m *runtimeMem) heapInUse() uint64 {
	runtime.ReadMemStats(&m.ms)
	return m.ms.HeapInuse
}
