#ifndef nsaArchiveCheck_h
#define nsaArchiveCheck_h

// Internal header of the Learning module (torch-free): only src/, test/ and the fuzz
// targets include it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace nsa
{

/** \brief Limits on what a model file or state dict may ask the reader to do.
 *
 * A model file is a zip archive holding pickles (data.pkl, constants.pkl, *.debug_pkl),
 * TorchScript code and tensor storages (data/<key>). These bounds are checked before
 * LibTorch, or the state-dict reader, allocates anything on the archive's word
 * (Documentation/HostileInput.md lists them). Each is far above what the toolkit's and
 * PyTorch's writers produce: the paper's network at width 4 with Adam state has a 40 KB
 * data.pkl of about 4,000 objects nested 12 deep.
 */
struct ArchiveLimits
{
  /** Entries in the zip's central directory. */
  static constexpr std::uint64_t MaxEntries = 100000;
  /** Uncompressed size of any record that is not a tensor storage (pickles, code). */
  static constexpr std::uint64_t MaxRecordBytes = 64ull << 20;
  /** Objects a pickle may create (every value pushed counts). */
  static constexpr std::uint64_t MaxPickleObjects = 500000;
  /** Nesting of containers and calls in a pickle. */
  static constexpr std::uint64_t MaxPickleDepth = 1000;
  /** Memo entries of a pickle. */
  static constexpr std::uint64_t MaxPickleMemo = 500000;
};

/** One record of a checked archive. */
struct ArchiveRecord
{
  std::uint64_t size = 0;  ///< uncompressed size in bytes
  bool          stored = true;
};

/** Checks the zip structure of a PyTorch archive before anything reads it: central
 * directory within the file, no duplicate or encrypted records, only stored or deflated
 * records, tensor storages (`.../data/<key>`) stored uncompressed (so that together they
 * can never exceed the file's size), every other record at most MaxRecordBytes, every
 * record's CRC-32 correct, and every pickle (`*.pkl`, `*.debug_pkl`) within the pickle
 * limits (ScanPickle). Returns the records by name (the archive's own folder prefix kept).
 * Throws nsa::InputError that starts with `context`. */
std::map<std::string, ArchiveRecord>
CheckArchive(const std::string & path, const std::string & context);

/** Walks the opcodes of a pickle without building any object and refuses one that would
 * create more than MaxPickleObjects objects or memo entries, nest deeper than
 * MaxPickleDepth, use an opcode outside those of Python's protocols 0-5 that torch.save
 * and LibTorch use, or is truncated. `record` names the pickle in messages. */
void
ScanPickle(const unsigned char * bytes,
           std::size_t           size,
           const std::string &   context,
           const std::string &   record);

} // namespace nsa

#endif
