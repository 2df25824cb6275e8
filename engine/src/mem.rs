//! Page pre-faulting for the run's record buffers.
//!
//! A growing `Vec` of records (orders, fills, equity samples) touches fresh memory page by
//! page, and each first touch is a page fault: on virtual machines with cgroup accounting a
//! fault costs microseconds, which adds up to a sizeable share of a backtest's event loop.
//! After a buffer grows, [`populate_spare`] asks Linux to map its spare capacity in one
//! system call (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14+). Elsewhere, or when the call is
//! refused, it does nothing: the pages then fault in on first use as usual.

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

#[cfg(target_os = "linux")]
fn huge(start: *const u8, len: usize) {
    let first = (start as usize).div_ceil(HUGE_PAGE) * HUGE_PAGE;
    let end = (start as usize + len) / HUGE_PAGE * HUGE_PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies inside the vector's allocation (rounded inward to whole huge
    // pages). MADV_HUGEPAGE only sets a paging hint on the mapping; contents are unchanged
    // and failure (THP unavailable) is harmless.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn huge(_start: *const u8, _len: usize) {}

/// Below this the syscall is not worth it.
const MIN_BYTES: usize = 64 * 1024;

#[cfg(target_os = "linux")]
fn populate(start: *const u8, len: usize) {
    const PAGE: usize = 4096;
    // madvise wants a page-aligned start; only whole pages inside the region are touched.
    let first = (start as usize).div_ceil(PAGE) * PAGE;
    let end = (start as usize + len) / PAGE * PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies inside the vector's allocation (its spare capacity, rounded
    // inward to whole pages). MADV_POPULATE_WRITE only populates page tables: it neither
    // reads nor changes the contents, and pages already mapped are left as they are, so no
    // Rust-visible memory is affected. Failure (old kernel, EINVAL, ENOMEM) is harmless.
    unsafe {
        libc::madvise(
            first as *mut libc::c_void,
            end - first,
            libc::MADV_POPULATE_WRITE,
        );
    }
}

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
