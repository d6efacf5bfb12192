// Deterministic test content for large bodies and streams.

export const MB = 1024 * 1024

// Deterministic content: byte k of the stream is (k * 31 + (k >>> 16)) & 255.
export function patternChunk (offset, size) {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) {
    const k = offset + i
    b[i] = (k * 31 + (k >>> 16)) & 255
  }
  return b
}
