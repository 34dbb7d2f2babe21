//! HMAC-SHA256 (RFC 2104) built directly on the SHA-256 compression function.
//!
//! Why not the `hmac` crate, the usual choice: verification is one HMAC over
//! `{id}.{timestamp}.{body}`, so any fixed cost around the compression
//! function shows on the short bodies webhooks carry. Here the inner and outer
//! chaining states are computed once at key setup; a message costs one 32-byte
//! state copy, its blocks (whole 64-byte blocks straight from the caller's
//! slice, the rest through one stack block), one padded tail block and one
//! outer block. Measured (`cargo bench --bench ratio`), this made verification
//! cost less than a bare pre-keyed `hmac::Hmac<Sha256>` over the same bytes
//! (see the README's table). The `hmac` crate stays the test oracle
//! (`tests/hmac.rs`, `fuzz/fuzz_targets/hmac_differential.rs`).
//!
//! `compress256` is sha2's public block function, with the same runtime
//! SHA-NI dispatch as `Sha256`.

use sha2::block_api::compress256;

/// SHA-256's block size.
pub(crate) const BLOCK: usize = 64;

/// The bits of a message length that give the offset within its last block.
const OFFSET_BITS: u64 = BLOCK as u64 - 1;

/// SHA-256's initial chaining value (FIPS 180-4, section 5.3.3).
const IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Each byte's position in a block, for the padding pass.
const POSITIONS: [u8; BLOCK] = {
    let mut positions = [0u8; BLOCK];
    let mut index = 0;
    while index < BLOCK {
        #[allow(clippy::indexing_slicing)] // evaluated at compile time
        {
            positions[index] = index as u8;
        }
        index += 1;
    }
    positions
};

/// A key, absorbed: the chaining states after `K ^ ipad` and `K ^ opad`.
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Keys longer than a block are hashed first (RFC 2104, section 2).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            // SHA-256 of the key, with the same block function (no second SHA-256 in the binary).
            let mut hash = Mac { state: IV, block: [0; BLOCK], length: 0 };
            hash.update(key);
            let digest = hash.finish_inner();
            for (chunk, word) in block.chunks_exact_mut(4).zip(digest) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
        } else {
            block.iter_mut().zip(key).for_each(|(slot, &byte)| *slot = byte);
        }
        let pad = |value: u8, block: &[u8; BLOCK]| {
            let mut padded = [0u8; BLOCK];
            padded.iter_mut().zip(block).for_each(|(slot, &byte)| *slot = byte ^ value);
            let mut state = IV;
            compress256(&mut state, core::slice::from_ref(&padded));
            wipe(&mut padded);
            state
        };
        let key = Self { inner: pad(0x36, &block), outer: pad(0x5c, &block) };
        wipe(&mut block);
        key
    }

    /// The inner MAC over a message not yet fed; [`finish`](Self::finish)
    /// turns it into the tag.
    #[inline(always)]
    pub(crate) fn start(&self) -> Mac {
        Mac { state: self.inner, block: [0; BLOCK], length: BLOCK as u64 }
    }

    /// The tag of the message `mac` was fed: the inner hash, then the outer block.
    #[inline(always)]
    pub(crate) fn finish(&self, mac: &mut Mac) -> [u8; 32] {
        let inner = mac.finish_inner();
        // Outer: H(K ^ opad || inner digest), one block with its padding.
        let mut outer = [0u8; BLOCK];
        for (chunk, word) in outer.chunks_exact_mut(4).zip(inner) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        if let Some(marker) = outer.get_mut(32) {
            *marker = 0x80;
        }
        // (64 + 32) bytes = 768 bits.
        outer.iter_mut().skip(BLOCK - 8).zip(768u64.to_be_bytes()).for_each(|(slot, byte)| *slot = byte);
        let mut state = self.outer;
        compress256(&mut state, core::slice::from_ref(&outer));
        let mut tag = [0u8; 32];
        for (chunk, word) in tag.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        wipe(&mut outer);
        tag
    }
}

/// An inner hash in progress: 104 bytes, and no outer state (the key's
/// [`finish`](HmacKey::finish) brings it), so a streaming verification that
/// borrows the key fits 128 bytes, which a move copies inline rather than
/// with a `memcpy` call.
#[derive(Clone)]
pub(crate) struct Mac {
    state: [u32; 8],
    /// The message's last `length % 64` bytes; never a whole block, which is
    /// compressed as soon as it fills.
    block: [u8; BLOCK],
    /// Bytes fed so far, the key block included.
    length: u64,
}

impl Mac {
    /// How many bytes of `block` are filled.
    #[inline(always)]
    fn buffered(&self) -> usize {
        (self.length & OFFSET_BITS) as usize
    }

    /// Feeds `data`: whole blocks go to the compression function straight from
    /// the slice; only a partial block is copied.
    #[inline(always)]
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        let buffered = self.buffered();
        if buffered > 0 {
            let free = BLOCK.saturating_sub(buffered);
            if data.len() < free {
                self.append(data);
                return;
            }
            let (head, rest) = data.split_at(free);
            self.append(head);
            self.compress_block();
            data = rest;
        }
        let (blocks, tail) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
            self.length = self.length.wrapping_add((blocks.len() as u64).wrapping_mul(BLOCK as u64));
        }
        self.append(tail);
    }

    /// Feeds a short part (the id, a dot, the timestamp) byte by byte, where
    /// a `memcpy` call costs more than the copy.
    #[inline(always)]
    pub(crate) fn append_small(&mut self, part: &[u8]) {
        let end = self.buffered().saturating_add(part.len());
        if end <= BLOCK {
            // Fits the block: one copy (the common case: ids are ~30 bytes).
            self.append(part);
            if end == BLOCK {
                self.compress_block();
            }
            return;
        }
        for &byte in part {
            let buffered = self.buffered();
            if let Some(slot) = self.block.get_mut(buffered) {
                *slot = byte;
            }
            self.length = self.length.wrapping_add(1);
            if self.buffered() == 0 {
                self.compress_block();
            }
        }
    }

    /// Compresses the block, just filled.
    #[inline(always)]
    fn compress_block(&mut self) {
        compress256(&mut self.state, core::slice::from_ref(&self.block));
    }

    /// Copies a part that fits the partial block and counts it.
    #[inline(always)]
    fn append(&mut self, part: &[u8]) {
        let buffered = self.buffered();
        if let Some(slots) = self.block.get_mut(buffered..buffered.saturating_add(part.len())) {
            copy_short(slots, part);
            self.length = self.length.wrapping_add(part.len() as u64);
        }
    }

    /// The inner hash: padding and length (FIPS 180-4, 5.1.1), then the chaining state.
    #[inline(always)]
    fn finish_inner(&mut self) -> [u32; 8] {
        // The message length in bits, the key block included (FIPS 180-4, 5.1.1).
        let bits = self.length.wrapping_mul(8);
        let buffered = self.buffered();
        // The 0x80 marker, then zeros: a fixed-length, branch-free pass over the
        // block (a variable-length fill becomes a `memset` call). Byte-sized
        // indices let it compile to a few vector compares; `usize` ones made
        // it a byte loop, half the fixed cost of a 64-byte verification.
        let end = buffered as u8; // < 64 here
        for (slot, &index) in self.block.iter_mut().zip(&POSITIONS) {
            let keep = 0u8.wrapping_sub(u8::from(index < end));
            *slot = (*slot & keep) | (u8::from(index == end) << 7);
        }
        if buffered >= BLOCK - 8 {
            compress256(&mut self.state, core::slice::from_ref(&self.block));
            self.block = [0; BLOCK];
        }
        self.block.iter_mut().skip(BLOCK - 8).zip(bits.to_be_bytes()).for_each(|(slot, byte)| *slot = byte);
        compress256(&mut self.state, core::slice::from_ref(&self.block));
        self.state
    }
}

/// Copies `source` into `target` (same length, at most a block) with a few
/// fixed-size moves, overlapping where the length is not a multiple of
/// theirs: a `copy_from_slice` of a variable length is a `memcpy` call, which
/// cost more than the copy for the id, the timestamp and the body's head and
/// tail (four calls per verification).
#[inline(always)]
fn copy_short(target: &mut [u8], source: &[u8]) {
    #[inline(always)]
    fn both<const W: usize>(target: &mut [u8], source: &[u8]) {
        if let (Some(to), Some(from)) = (target.first_chunk_mut::<W>(), source.first_chunk::<W>()) {
            *to = *from;
        }
        if let (Some(to), Some(from)) = (target.last_chunk_mut::<W>(), source.last_chunk::<W>()) {
            *to = *from;
        }
    }
    if target.len() != source.len() {
        return;
    }
    // In WebAssembly a copy is no libc call, and these inlined moves cost
    // 1.8 KB of the HMAC module's 32 KiB budget.
    if cfg!(target_arch = "wasm32") || source.len() > BLOCK {
        // A zipped loop, not `copy_from_slice`: its length check is a panic
        // path whose message formatting cost 2 KB of the module.
        target.iter_mut().zip(source).for_each(|(to, &from)| *to = from);
        return;
    }
    match source.len() {
        32.. => both::<32>(target, source),
        16.. => both::<16>(target, source),
        8.. => both::<8>(target, source),
        4.. => both::<4>(target, source),
        2.. => both::<2>(target, source),
        // One byte or none (a byte loop here would become a `memcpy` call).
        _ => both::<1>(target, source),
    }
}

/// Wipes key-derived bytes with the `zeroize` feature; a no-op without it.
#[inline(always)]
fn wipe(bytes: &mut [u8]) {
    #[cfg(feature = "zeroize")]
    zeroize::Zeroize::zeroize(bytes);
    #[cfg(not(feature = "zeroize"))]
    let _ = bytes;
}

#[cfg(feature = "zeroize")]
impl Drop for HmacKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.inner);
        zeroize::Zeroize::zeroize(&mut self.outer);
    }
}

#[cfg(feature = "zeroize")]
impl Drop for Mac {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.state);
        zeroize::Zeroize::zeroize(&mut self.block);
    }
}

#[cfg(test)]
#[path = "hmac256_tests.rs"]
mod tests;
