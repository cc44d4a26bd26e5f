//! Copy-on-write chunked vectors: the structure that makes snapshots cheap.
//!
//! A [`ChunkVec`] is a vector split into fixed-size chunks behind `Arc`s. Cloning it copies only
//! the chunk pointers, so a writer can clone the whole graph, change a few elements (copying only
//! the chunks it touches) and publish the result while readers keep the old version.

use std::sync::Arc;

const CHUNK: usize = 1024;

/// A vector of `T` in shared, copy-on-write chunks.
#[derive(Debug, Clone)]
pub struct ChunkVec<T: Clone> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T: Clone> Default for ChunkVec<T> {
    fn default() -> Self {
        ChunkVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> ChunkVec<T> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element at `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The element at `i`, copying its chunk first if a snapshot shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i / CHUNK)
            .and_then(|c| Arc::make_mut(c).get_mut(i % CHUNK))
    }

    /// Appends `v`.
    pub fn push(&mut self, v: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(last) = self.chunks.last_mut() {
            Arc::make_mut(last).push(v);
            self.len += 1;
        }
    }

    /// Appends every element of `items`, filling chunks whole (one copy-on-write check per
    /// chunk rather than per element: the bulk loader's path).
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        let mut it = items.into_iter().peekable();
        while it.peek().is_some() {
            if self.len.is_multiple_of(CHUNK) {
                self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
            }
            let Some(last) = self.chunks.last_mut() else {
                return;
            };
            let chunk = Arc::make_mut(last);
            let room = CHUNK - chunk.len();
            let before = chunk.len();
            chunk.extend(it.by_ref().take(room));
            self.len += chunk.len() - before;
        }
    }

    /// The elements as one vector (chunks no snapshot shares are moved, not copied).
    pub fn into_vec(self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for c in self.chunks {
            match Arc::try_unwrap(c) {
                Ok(v) => out.extend(v),
                Err(shared) => out.extend(shared.iter().cloned()),
            }
        }
        out
    }

    /// Every element in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Approximate heap bytes held (chunk storage only).
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<T>())
            .sum::<usize>()
            + self.chunks.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_until_written() {
        let mut a = ChunkVec::new();
        for i in 0..3000 {
            a.push(i);
        }
        let b = a.clone();
        if let Some(x) = a.get_mut(5) {
            *x = -1;
        }
        assert_eq!(a.get(5), Some(&-1));
        assert_eq!(b.get(5), Some(&5));
        assert_eq!(b.get(2999), Some(&2999));
        assert_eq!(a.iter().count(), 3000);
        assert!(a.get(3000).is_none());
        let mut c = b.clone();
        c.extend(0..2000);
        assert_eq!(c.len(), 5000);
        assert_eq!(c.get(4999), Some(&1999));
        assert_eq!(c.get(3000), Some(&0));
        assert_eq!(b.len(), 3000);
    }
}
