//! Paging hints for the run's record buffers.
//!
//! A `Vec` of records (orders, fills, equity samples) that fills up during a run touches
//! fresh memory page by page, and each first touch is a page fault: on virtual machines with
//! cgroup accounting a fault costs microseconds, which adds up to a sizeable share of a
//! backtest's event loop. [`populate_spare`] maps a reserved buffer's spare capacity before
//! the loop in one system call (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14+);
//! [`advise_huge_pages`] asks for 2 MiB pages for buffers whose final size is not known.
//! Elsewhere, or when the kernel refuses, both do nothing and pages fault in as usual.

/// Map the unused capacity of `v` now, in one call, instead of one fault per page later.
#[inline]
pub fn populate_spare<T>(v: &Vec<T>) {
    let spare = (v.capacity() - v.len()) * std::mem::size_of::<T>();
    if spare < MIN_BYTES {
        return;
    }
    populate(v.as_ptr().wrapping_add(v.len()).cast::<u8>(), spare);
}

/// Ask for transparent huge pages (2 MiB) over the whole allocation of `v` (its aligned
/// inner part), so a large buffer that fills up during a run takes one fault per 2 MiB
/// instead of one per 4 KiB. Effective where THP is enabled in `madvise` mode (the usual
/// default); a no-op elsewhere.
#[inline]
pub fn advise_huge_pages<T>(v: &Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes >= 2 * HUGE_PAGE {
        huge(v.as_ptr().cast::<u8>(), bytes);
    }
}

const HUGE_PAGE: usize = 2 << 20;

/// Below this the syscall is not worth it.
const MIN_BYTES: usize = 64 * 1024;

#[cfg(target_os = "linux")]
fn huge(start: *const u8, len: usize) {
    madvise_inward(start, len, HUGE_PAGE, libc::MADV_HUGEPAGE);
}

#[cfg(target_os = "linux")]
fn populate(start: *const u8, len: usize) {
    madvise_inward(start, len, 4096, libc::MADV_POPULATE_WRITE);
}

/// `madvise(advice)` over the whole `align`-sized blocks inside `[start, start + len)`.
#[cfg(target_os = "linux")]
fn madvise_inward(start: *const u8, len: usize, align: usize, advice: libc::c_int) {
    let first = (start as usize).div_ceil(align) * align;
    let end = (start as usize + len) / align * align;
    if end <= first {
        return;
    }
    // SAFETY: callers pass ranges inside a vector's allocation, and the range is rounded
    // inward. The two advices used here (MADV_HUGEPAGE, a paging hint; MADV_POPULATE_WRITE,
    // which maps pages as a write would without writing) leave contents unchanged, so no
    // Rust-visible memory is affected. Failure (old kernel, THP off, EINVAL, ENOMEM) is
    // harmless: pages then fault in on first use as usual.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, advice);
    }
}

#[cfg(not(target_os = "linux"))]
fn huge(_start: *const u8, _len: usize) {}

#[cfg(not(target_os = "linux"))]
fn populate(_start: *const u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populating_spare_capacity_keeps_contents_and_length() {
        let mut v: Vec<u64> = (0..1000).collect();
        v.reserve(1 << 20);
        populate_spare(&v);
        assert_eq!(v.len(), 1000);
        assert!(v.iter().copied().eq(0..1000));
        v.extend(1000..5000);
        assert!(v.iter().copied().eq(0..5000));
        // Huge-page advice on a large buffer: contents and length unchanged.
        let mut big: Vec<u64> = (0..10).collect();
        big.reserve(1 << 21);
        advise_huge_pages(&big);
        populate_spare(&big);
        big.extend(10..100_000);
        assert!(big.iter().copied().eq(0..100_000));
        // Too small to bother, and an empty vector: no-ops.
        populate_spare(&Vec::<u8>::with_capacity(10));
        populate_spare(&Vec::<u8>::new());
    }
}
