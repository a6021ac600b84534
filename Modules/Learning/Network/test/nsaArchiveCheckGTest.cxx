// Tests of the checks made on model archives before LibTorch or the state-dict reader reads
// them (issue 14): zip structure, CRC-32, record sizes, pickle bounds. Torch-free.

#include "nsaArchiveCheck.h"

#include "nsaError.h"

#include <zlib.h>

#include "gtest/gtest.h"

#include <fstream>
#include <string>
#include <vector>

namespace
{

std::string
OutputPath(const std::string & name)
{
  return std::string(NSA_TEST_OUTPUT_DIR) + "/ArchiveCheck_" + name;
}

void
Put(std::string & out, std::uint64_t value, int bytes)
{
  for (int i = 0; i < bytes; ++i)
  {
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

struct Record
{
  std::string name;
  std::string data;
  bool        deflate = false;
  long        crcDelta = 0;               ///< added to the true CRC-32
  long        declaredSizeDelta = 0;      ///< added to the true uncompressed size
};

std::string
RawDeflate(const std::string & data)
{
  z_stream stream{};
  deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef *>(&out[0]);
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

/** A zip archive as PyTorch writes them (records stored unless asked to deflate). */
void
WriteZip(const std::string & path, const std::vector<Record> & records)
{
  std::string file;
  std::string directory;
  for (const auto & record : records)
  {
    const std::string   payload = record.deflate ? RawDeflate(record.data) : record.data;
    const std::uint32_t crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef *>(record.data.data()), static_cast<uInt>(record.data.size())) +
      record.crcDelta);
    const std::uint64_t size = record.data.size() + record.declaredSizeDelta;
    const std::uint64_t offset = file.size();
    std::string         common;
    Put(common, 20, 2);                      // version needed
    Put(common, 0, 2);                       // flags
    Put(common, record.deflate ? 8 : 0, 2); // method
    Put(common, 0, 4);                       // time, date
    Put(common, crc, 4);
    Put(common, payload.size(), 4);
    Put(common, size, 4);
    Put(common, record.name.size(), 2);
    Put(common, 0, 2); // extra
    Put(file, 0x04034b50, 4);
    file += common + record.name + payload;
    Put(directory, 0x02014b50, 4);
    Put(directory, 20, 2); // version made by
    directory += common;
    Put(directory, 0, 2); // comment
    Put(directory, 0, 2); // disk
    Put(directory, 0, 2); // internal attributes
    Put(directory, 0, 4); // external attributes
    Put(directory, offset, 4);
    directory += record.name;
  }
  const std::uint64_t directoryOffset = file.size();
  file += directory;
  Put(file, 0x06054b50, 4);
  Put(file, 0, 4);
  Put(file, records.size(), 2);
  Put(file, records.size(), 2);
  Put(file, directory.size(), 4);
  Put(file, directoryOffset, 4);
  Put(file, 0, 2);
  std::ofstream(path, std::ios::binary) << file;
}

std::string
ArchiveError(const std::vector<Record> & records)
{
  const std::string path = OutputPath("archive.pt");
  WriteZip(path, records);
  try
  {
    nsa::CheckArchive(path, "model file 'm.pt'");
  }
  catch (const nsa::InputError & error)
  {
    return error.what();
  }
  return "no error";
}

std::string
PickleError(const std::string & bytes)
{
  try
  {
    nsa::ScanPickle(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), "state dict 's.pt'", "data.pkl");
  }
  catch (const nsa::InputError & error)
  {
    return error.what();
  }
  return "no error";
}

// {'a': (1, [2.0])} as Python's pickle protocol 2 writes it.
const std::string SmallPickle = std::string("\x80\x02}q\x00X\x01\x00\x00\x00" "aq\x01K\x01]q\x02G@\x00\x00\x00\x00\x00\x00\x00" "a\x86q\x03s.", 33);

} // namespace

TEST(ArchiveCheck, AcceptsAWellFormedArchive)
{
  EXPECT_EQ(PickleError(SmallPickle), "no error");
  EXPECT_EQ(ArchiveError({ { "archive/data.pkl", SmallPickle }, { "archive/data/0", std::string(64, '\1') },
                           { "archive/code/x.py", std::string(5000, 'x'), true } }),
            "no error");
}

TEST(ArchiveCheck, RefusesDamagedOrInflatedRecords)
{
  EXPECT_EQ(ArchiveError({ { "archive/data.pkl", SmallPickle }, { "archive/data/0", std::string(64, '\1'), false, 1 } }),
            "model file 'm.pt': record 'archive/data/0': CRC-32 is 0bcd6aaf, the archive says 0bcd6ab0 (damaged or "
            "altered file)");
  EXPECT_NE(ArchiveError({ { "archive/data.pkl", SmallPickle }, { "archive/data.pkl", SmallPickle } }).find("appears twice"),
            std::string::npos);
  EXPECT_NE(ArchiveError({ { "archive/data.pkl", SmallPickle }, { "archive/data/0", std::string(64, '\1'), true } })
              .find("is a tensor storage but compressed"),
            std::string::npos);
  // A deflated pickle that claims 1 GiB: refused from the directory, nothing inflated.
  EXPECT_NE(ArchiveError({ { "archive/data.pkl", SmallPickle, true, 0, (1l << 30) } })
              .find("holds 1073741857 bytes (limit 67108864"),
            std::string::npos);
  // One that inflates to more than it declares.
  EXPECT_NE(ArchiveError({ { "archive/data.pkl", SmallPickle + std::string(1000, 'N'), true, 0, -500 } })
              .find("inflates to more than"),
            std::string::npos);
  const std::string truncated = OutputPath("truncated.pt");
  std::ofstream(truncated, std::ios::binary) << "PK\x03\x04 not much more";
  EXPECT_THROW(nsa::CheckArchive(truncated, "x"), nsa::InputError);
}

TEST(ArchiveCheck, RefusesPicklesBeyondTheLimits)
{
  // 5 x 10^6 empty lists (5 MB that deflate to 5 KB): refused at the object limit.
  const std::string lists = "\x80\x02" + std::string(5000000, ']') + ".";
  EXPECT_NE(PickleError(lists).find("more than 500000 objects (limit)"), std::string::npos) << PickleError(lists);
  EXPECT_NE(ArchiveError({ { "archive/data.pkl", lists, true } }).find("more than 500000 objects"), std::string::npos);
  // A tuple nested 10^6 deep, then POP (or memoised).
  std::string tuples = "\x80\x02N";
  for (int i = 0; i < 1000000; ++i)
  {
    tuples += "\x85";
  }
  EXPECT_NE(PickleError(tuples + "0N.").find("nested deeper than 1000 (limit)"), std::string::npos);
  EXPECT_NE(PickleError(tuples + std::string("q\x00.", 3)).find("nested deeper than 1000 (limit)"), std::string::npos);
  // Nesting built top-down through the memo (append into a list already nested elsewhere).
  std::string memo("\x80\x02]q\x00", 5);
  for (int i = 1; i < 2000; ++i)
  {
    memo += "]r" + std::string(reinterpret_cast<const char *>(&i), 4) + "a"; // new list, memo i, append to the one below
    const int previous = i;
    memo += "j" + std::string(reinterpret_cast<const char *>(&previous), 4); // fetch it back to append the next
  }
  EXPECT_NE(PickleError(memo + ".").find("extended after it was nested"), std::string::npos) << PickleError(memo + ".");
  EXPECT_NE(PickleError("\x80\x02]q").find("truncated pickle"), std::string::npos);
  EXPECT_NE(PickleError("\x80\x02.").find("stack underflow"), std::string::npos);
  EXPECT_NE(PickleError("\x80\x02h\x05.").find("memo entry 5 missing"), std::string::npos);
  EXPECT_NE(PickleError("\x80\x02X\xff\xff\xff\x7f" "abc.").find("truncated pickle"), std::string::npos);
  EXPECT_NE(PickleError("\x80\x02i.").find("unsupported pickle opcode 0x69"), std::string::npos);
}
