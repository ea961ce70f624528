// The content-addressed half of the image store: <store>/blobs/sha256/<hex>
// holds manifests, configs and layers exactly as the registry served them.
// A blob enters only whole and verified: it is written to a temporary file
// in <store>/tmp/, its sha256 (and size, when known) checked, fsync-ed and
// renamed into place, so a crash or a mismatch leaves nothing that a later
// pull would trust. A file under blobs/ is never modified.
#ifndef SLIPWAY_IMAGE_BLOB_STORE_H_
#define SLIPWAY_IMAGE_BLOB_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "util/sha256.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

class BlobStore {
 public:
  explicit BlobStore(std::string store_dir) : dir_(std::move(store_dir)) {}

  // <store>/blobs/sha256/<hex> for "sha256:<hex>" (the digest must be one:
  // IsSha256Digest).
  std::string PathOf(const std::string& digest) const;
  // Whether the blob is present (and, when size >= 0, of that size).
  bool Has(const std::string& digest, int64_t size = -1) const;
  // Reads a small blob (a manifest or config) whole.
  StatusOr<std::string> ReadSmall(const std::string& digest) const;
  // Stores data as the blob digest; a mismatch is an error naming what.
  Status Put(const std::string& digest, std::string_view data, const std::string& what);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Writes one blob: Append the pieces, then Commit. Destroying a writer that
// was not committed removes its temporary file.
class BlobWriter {
 public:
  // expected_size < 0: not checked. what names the blob in errors
  // ("blob sha256:... of alpine:3.19").
  BlobWriter(const BlobStore* store, std::string digest, int64_t expected_size, std::string what);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status Open();
  Status Append(std::string_view data);
  // Checks the digest and size, syncs and renames the file into place.
  Status Commit();
  // The temporary file being written (after Open): a reader may follow it
  // as it grows, trusting nothing of it before Commit.
  const std::string& temp_path() const { return temp_path_; }

 private:
  const BlobStore* store_;
  std::string digest_, what_, temp_path_;
  int64_t expected_size_;
  int64_t written_ = 0;
  UniqueFd fd_;
  Sha256 hash_;
  bool committed_ = false;
};

// Creates a uniquely named file or directory in <store>/tmp/ (made if
// missing): "<prefix>-<pid>-<random>".
StatusOr<std::string> MakeTempPath(const std::string& store_dir, const std::string& prefix);
// Writes content to path through a temporary file in the same directory,
// fsync and rename: readers see the old or the new content, never a part.
Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_BLOB_STORE_H_
