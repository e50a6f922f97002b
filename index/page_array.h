#pragma once

// A fixed-size, zero-filled array for data read at random by every walk (vector rows, links).
// On 4 KiB pages nearly each such read is a TLB miss, which a VM's nested paging makes dear.
// Transparent huge pages are opt-in here (`madvise` mode), so an array of 2 MiB or more starts on
// a 2 MiB boundary and asks for them before its first touch. Advice only: a kernel that refuses
// changes nothing but speed. Smaller arrays are 64-byte aligned (whole cache lines).

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>
#include <utility>

namespace tessera::index {

template <typename T>
class PageArray {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  PageArray() = default;
  explicit PageArray(size_t n) : size_(n) {
    if (n == 0) {
      return;
    }
    const size_t bytes = n * sizeof(T);
    const size_t align = bytes >= kHugePage ? kHugePage : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    data_ = static_cast<T*>(std::aligned_alloc(align, rounded));
    if (data_ == nullptr) {
      throw std::bad_alloc();
    }
    if (align == kHugePage) {
      (void)::madvise(data_, rounded, MADV_HUGEPAGE);
    }
    std::memset(static_cast<void*>(data_), 0, rounded);
  }
  ~PageArray() { std::free(data_); }
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  PageArray(const PageArray& other) : PageArray(other.size_) {
    if (size_ > 0) {
      std::memcpy(static_cast<void*>(data_), other.data_, size_ * sizeof(T));
    }
  }
  PageArray& operator=(const PageArray& other) {
    if (this != &other) {
      *this = PageArray(other);
    }
    return *this;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tessera::index
