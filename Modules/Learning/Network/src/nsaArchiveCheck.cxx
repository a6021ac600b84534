#include "nsaArchiveCheck.h"

#include "nsaError.h"
#include "nsaPickleOpcodes.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <unordered_map>
#include <vector>

namespace nsa
{

namespace
{

std::uint64_t
Little(const unsigned char * bytes, int count)
{
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i)
  {
    value = (value << 8) | bytes[i];
  }
  return value;
}

/** Random access to the archive file with range checks. */
class ArchiveFile
{
public:
  ArchiveFile(const std::string & path, const std::string & context)
    : m_Stream(path, std::ios::binary)
    , m_Context(context)
  {
    if (!m_Stream)
    {
      throw InputError(context + ": cannot open the file");
    }
    m_Stream.seekg(0, std::ios::end);
    const std::streamoff end = m_Stream.tellg();
    if (end < 0)
    {
      throw InputError(context + ": cannot read the file");
    }
    m_Size = static_cast<std::uint64_t>(end);
  }

  std::uint64_t
  Size() const
  {
    return m_Size;
  }

  /** Reads `count` bytes at `offset`; refuses a range outside the file. */
  void
  Read(std::uint64_t offset, std::uint64_t count, unsigned char * buffer, const char * what)
  {
    if (offset > m_Size || count > m_Size - offset)
    {
      this->Fail(std::string(what) + " lies outside the file (not a zip archive, or truncated)");
    }
    m_Stream.clear();
    m_Stream.seekg(static_cast<std::streamoff>(offset));
    m_Stream.read(reinterpret_cast<char *>(buffer), static_cast<std::streamsize>(count));
    if (static_cast<std::uint64_t>(m_Stream.gcount()) != count)
    {
      this->Fail(std::string("cannot read ") + what);
    }
  }

  [[noreturn]] void
  Fail(const std::string & what) const
  {
    throw InputError(m_Context + ": " + what);
  }

private:
  std::ifstream m_Stream;
  std::string   m_Context;
  std::uint64_t m_Size = 0;
};

struct Entry
{
  std::string   name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressedSize = 0;
  std::uint64_t size = 0;
  std::uint64_t localOffset = 0;
};

bool
EndsWith(const std::string & text, const std::string & suffix)
{
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/** A tensor storage: "<prefix>/data/<key>" (the archive's folder, then data/). */
bool
IsStorage(const std::string & name)
{
  const auto slash = name.find('/');
  return slash != std::string::npos && name.compare(slash, 6, "/data/") == 0;
}

bool
IsPickle(const std::string & name)
{
  return EndsWith(name, ".pkl") || EndsWith(name, ".debug_pkl");
}

std::vector<Entry>
ReadCentralDirectory(ArchiveFile & file)
{
  // End of central directory: 22 bytes plus a comment of at most 65535 bytes.
  const std::uint64_t tail = std::min<std::uint64_t>(file.Size(), 22 + 65535);
  if (tail < 22)
  {
    file.Fail("not a zip archive (too short)");
  }
  std::vector<unsigned char> end(tail);
  file.Read(file.Size() - tail, tail, end.data(), "the end of the archive");
  std::int64_t at = static_cast<std::int64_t>(tail) - 22;
  while (at >= 0 && Little(&end[at], 4) != 0x06054b50)
  {
    --at;
  }
  if (at < 0)
  {
    file.Fail("not a zip archive (no end-of-central-directory record)");
  }
  const std::uint64_t endOffset = file.Size() - tail + static_cast<std::uint64_t>(at);
  const unsigned char * record = &end[at];
  std::uint64_t entries = Little(record + 10, 2);
  std::uint64_t directorySize = Little(record + 12, 4);
  std::uint64_t directoryOffset = Little(record + 16, 4);
  if (Little(record + 4, 2) != 0 || Little(record + 6, 2) != 0)
  {
    file.Fail("multi-disk zip archives are not supported");
  }
  if (entries == 0xffff || directorySize == 0xffffffff || directoryOffset == 0xffffffff)
  {
    // Zip64: the locator sits just before the end record and points at the zip64 end record.
    unsigned char locator[20];
    if (endOffset < 20)
    {
      file.Fail("zip64 locator missing");
    }
    file.Read(endOffset - 20, 20, locator, "the zip64 locator");
    if (Little(locator, 4) != 0x07064b50)
    {
      file.Fail("zip64 locator missing");
    }
    unsigned char zip64[56];
    file.Read(Little(locator + 8, 8), 56, zip64, "the zip64 end record");
    if (Little(zip64, 4) != 0x06064b50)
    {
      file.Fail("zip64 end record missing");
    }
    entries = Little(zip64 + 32, 8);
    directorySize = Little(zip64 + 40, 8);
    directoryOffset = Little(zip64 + 48, 8);
  }
  if (entries > ArchiveLimits::MaxEntries)
  {
    file.Fail(std::to_string(entries) + " records (limit " + std::to_string(ArchiveLimits::MaxEntries) + ")");
  }
  if (directorySize < entries * 46)
  {
    file.Fail("central directory too small for its " + std::to_string(entries) + " records");
  }
  std::vector<unsigned char> directory;
  if (directoryOffset > file.Size() || directorySize > file.Size() - directoryOffset)
  {
    file.Fail("central directory lies outside the file (truncated archive?)");
  }
  directory.resize(directorySize);
  file.Read(directoryOffset, directorySize, directory.data(), "the central directory");

  std::vector<Entry> result;
  result.reserve(entries);
  std::uint64_t position = 0;
  for (std::uint64_t i = 0; i < entries; ++i)
  {
    if (directorySize - position < 46 || Little(&directory[position], 4) != 0x02014b50)
    {
      file.Fail("central directory record " + std::to_string(i) + " is damaged");
    }
    const unsigned char * header = &directory[position];
    Entry                 entry;
    entry.flags = static_cast<std::uint16_t>(Little(header + 8, 2));
    entry.method = static_cast<std::uint16_t>(Little(header + 10, 2));
    entry.crc = static_cast<std::uint32_t>(Little(header + 16, 4));
    entry.compressedSize = Little(header + 20, 4);
    entry.size = Little(header + 24, 4);
    const std::uint64_t nameLength = Little(header + 28, 2);
    const std::uint64_t extraLength = Little(header + 30, 2);
    const std::uint64_t commentLength = Little(header + 32, 2);
    entry.localOffset = Little(header + 42, 4);
    const std::uint64_t total = 46 + nameLength + extraLength + commentLength;
    if (directorySize - position < total)
    {
      file.Fail("central directory record " + std::to_string(i) + " is damaged");
    }
    entry.name.assign(reinterpret_cast<const char *>(header + 46), nameLength);
    // Zip64 extra field: the 64-bit sizes and offset, each present only when its 32-bit
    // field is saturated, in this order.
    const unsigned char * extra = header + 46 + nameLength;
    for (std::uint64_t e = 0; e + 4 <= extraLength;)
    {
      const std::uint64_t id = Little(extra + e, 2);
      const std::uint64_t length = Little(extra + e + 2, 2);
      if (e + 4 + length > extraLength)
      {
        break;
      }
      if (id == 0x0001)
      {
        std::uint64_t field = e + 4;
        const auto    take = [&](std::uint64_t & value) {
          if (value == 0xffffffff && field + 8 <= e + 4 + length)
          {
            value = Little(extra + field, 8);
            field += 8;
          }
        };
        take(entry.size);
        take(entry.compressedSize);
        take(entry.localOffset);
      }
      e += 4 + length;
    }
    result.push_back(std::move(entry));
    position += total;
  }
  return result;
}

/** Streams one record's data, inflating it when deflated; calls `sink(bytes, count)` and
 * returns the CRC-32 of the uncompressed bytes. Refuses data that inflate to more or fewer
 * bytes than the directory says. */
template <typename TSink>
std::uint32_t
StreamRecord(ArchiveFile & file, const Entry & entry, std::uint64_t dataOffset, TSink && sink)
{
  const std::string   where = "record '" + entry.name + "'";
  constexpr std::size_t Chunk = 1 << 16;
  std::vector<unsigned char> input(Chunk);
  uLong                      crc = crc32(0L, Z_NULL, 0);
  if (entry.method == 0)
  {
    for (std::uint64_t done = 0; done < entry.size;)
    {
      const std::uint64_t count = std::min<std::uint64_t>(Chunk, entry.size - done);
      file.Read(dataOffset + done, count, input.data(), where.c_str());
      crc = crc32(crc, input.data(), static_cast<uInt>(count));
      sink(input.data(), static_cast<std::size_t>(count));
      done += count;
    }
    return static_cast<std::uint32_t>(crc);
  }
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
  {
    file.Fail("cannot start inflating " + where);
  }
  std::vector<unsigned char> output(Chunk);
  std::uint64_t              produced = 0;
  std::uint64_t              consumed = 0;
  int                        status = Z_OK;
  try
  {
    while (status != Z_STREAM_END)
    {
      if (stream.avail_in == 0)
      {
        const std::uint64_t count = std::min<std::uint64_t>(Chunk, entry.compressedSize - consumed);
        if (count == 0)
        {
          file.Fail(where + ": compressed data end early");
        }
        file.Read(dataOffset + consumed, count, input.data(), where.c_str());
        consumed += count;
        stream.next_in = input.data();
        stream.avail_in = static_cast<uInt>(count);
      }
      stream.next_out = output.data();
      stream.avail_out = static_cast<uInt>(Chunk);
      status = inflate(&stream, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END)
      {
        file.Fail(where + ": damaged compressed data");
      }
      const std::size_t count = Chunk - stream.avail_out;
      produced += count;
      if (produced > entry.size)
      {
        file.Fail(where + ": inflates to more than the " + std::to_string(entry.size) + " bytes it declares");
      }
      crc = crc32(crc, output.data(), static_cast<uInt>(count));
      sink(output.data(), count);
    }
  }
  catch (...)
  {
    inflateEnd(&stream);
    throw;
  }
  inflateEnd(&stream);
  if (produced != entry.size)
  {
    file.Fail(where + ": inflates to " + std::to_string(produced) + " bytes, not the " +
              std::to_string(entry.size) + " it declares");
  }
  return static_cast<std::uint32_t>(crc);
}

std::string
Hex32(std::uint32_t value)
{
  static const char * digits = "0123456789abcdef";
  std::string         text(8, '0');
  for (int i = 7; i >= 0; --i, value >>= 4)
  {
    text[i] = digits[value & 15];
  }
  return text;
}

} // namespace

// ---------------------------------------------------------------------------------------
std::map<std::string, ArchiveRecord>
CheckArchive(const std::string & path, const std::string & context)
{
  ArchiveFile                          file(path, context);
  const std::vector<Entry>             entries = ReadCentralDirectory(file);
  std::map<std::string, ArchiveRecord> records;
  for (const Entry & entry : entries)
  {
    const std::string where = "record '" + entry.name + "'";
    if (!records.emplace(entry.name, ArchiveRecord{ entry.size, entry.method == 0 }).second)
    {
      file.Fail("record '" + entry.name + "' appears twice");
    }
    if (entry.flags & 1)
    {
      file.Fail(where + " is encrypted");
    }
    if (entry.method != 0 && entry.method != 8)
    {
      file.Fail(where + " uses compression method " + std::to_string(entry.method) +
                " (only stored and deflated records are read)");
    }
    if (entry.method == 0 && entry.compressedSize != entry.size)
    {
      file.Fail(where + " is stored but its sizes differ");
    }
    if (IsStorage(entry.name) && entry.method != 0)
    {
      file.Fail(where + " is a tensor storage but compressed (torch.save stores them uncompressed)");
    }
    if (!IsStorage(entry.name) && entry.size > ArchiveLimits::MaxRecordBytes)
    {
      file.Fail(where + " holds " + std::to_string(entry.size) + " bytes (limit " +
                std::to_string(ArchiveLimits::MaxRecordBytes) + " for a record that is not a tensor storage)");
    }
    unsigned char local[30];
    file.Read(entry.localOffset, 30, local, where.c_str());
    if (Little(local, 4) != 0x04034b50)
    {
      file.Fail(where + ": local header missing");
    }
    const std::uint64_t dataOffset = entry.localOffset + 30 + Little(local + 26, 2) + Little(local + 28, 2);
    if (dataOffset > file.Size() || entry.compressedSize > file.Size() - dataOffset)
    {
      file.Fail(where + " lies outside the file (truncated archive?)");
    }
    std::vector<unsigned char> bytes;
    const bool                 pickle = IsPickle(entry.name);
    if (pickle)
    {
      bytes.reserve(static_cast<std::size_t>(entry.size));
    }
    const std::uint32_t crc = StreamRecord(file, entry, dataOffset, [&](const unsigned char * data, std::size_t count) {
      if (pickle)
      {
        bytes.insert(bytes.end(), data, data + count);
      }
    });
    if (crc != entry.crc)
    {
      file.Fail(where + ": CRC-32 is " + Hex32(crc) + ", the archive says " + Hex32(entry.crc) +
                " (damaged or altered file)");
    }
    if (pickle)
    {
      const auto slash = entry.name.find('/');
      ScanPickle(bytes.data(), bytes.size(), context,
                 slash == std::string::npos ? entry.name : entry.name.substr(slash + 1));
    }
  }
  return records;
}

// ---------------------------------------------------------------------------------------
namespace
{

/** Simulates the pickle machine's stack with one small record per object: its nesting depth
 * and whether it already sits inside another object. */
class PickleScanner
{
public:
  PickleScanner(const unsigned char * bytes, std::size_t size, std::string where)
    : m_Bytes(bytes)
    , m_Size(size)
    , m_Where(std::move(where))
  {}

  void
  Run()
  {
    while (this->Step())
    {
    }
  }

private:
  /** Executes one opcode; false after STOP. */
  bool
  Step()
  {
    const std::size_t   opcodeAt = m_Position;
    const unsigned char opcode = this->Byte();
    switch (opcode)
    {
      case pickle::Proto:
        this->Skip(1);
        return true;
      case pickle::Frame:
        this->Skip(8);
        return true;
      case pickle::Stop:
        this->Pop();
        return false;
      case pickle::Mark:
        m_Marks.push_back(m_Stack.size());
        return true;
      case pickle::Pop:
        this->Pop();
        return true;
      case pickle::PopMark:
        this->PopToMark();
        return true;
      case pickle::Dup:
        this->Push(this->Top());
        return true;
      default:
        break;
    }
    if (!this->PushLeaf(opcode) && !this->UseMemo(opcode) && !this->Combine(opcode))
    {
      m_Position = opcodeAt;
      this->Fail("unsupported pickle opcode " + pickle::OpcodeText(opcode));
    }
    return true;
  }

  /** Opcodes that push one object holding no other: constants, numbers, strings, globals
   * (their operands skipped). False for any other opcode. */
  bool
  PushLeaf(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::None:
      case pickle::NewTrue:
      case pickle::NewFalse:
      case pickle::EmptyTuple:
      case pickle::EmptyList:
      case pickle::EmptyDict:
      case pickle::EmptySet:
        break;
      case pickle::BinInt1:
        this->Skip(1);
        break;
      case pickle::BinInt2:
        this->Skip(2);
        break;
      case pickle::BinInt:
        this->Skip(4);
        break;
      case pickle::BinFloat:
        this->Skip(8);
        break;
      case pickle::Long1: // operands with a 1-byte length
      case pickle::ShortBinString:
      case pickle::ShortBinBytes:
      case pickle::ShortBinUnicode:
        this->Skip(this->Byte());
        break;
      case pickle::Long4: // 4-byte length
      case pickle::BinString:
      case pickle::BinBytes:
      case pickle::BinUnicode:
        this->Skip(this->Little(4));
        break;
      case pickle::BinUnicode8: // 8-byte length
      case pickle::BinBytes8:
      case pickle::ByteArray8:
        this->Skip(this->Little(8));
        break;
      case pickle::Int: // one line of text
      case pickle::Long:
      case pickle::Float:
      case pickle::String:
      case pickle::Unicode:
        this->Line();
        break;
      case pickle::Global: // module and name lines
        this->Line();
        this->Line();
        break;
      case pickle::StackGlobal: // module and name strings from the stack
        this->Pop();
        this->Pop();
        break;
      default:
        return false;
    }
    this->Push(this->New(1));
    return true;
  }

  /** Memo reads and writes. False for any other opcode. */
  bool
  UseMemo(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::BinGet:
        this->Push(this->Memo(this->Byte()));
        return true;
      case pickle::LongBinGet:
        this->Push(this->Memo(this->Little(4)));
        return true;
      case pickle::Get:
        this->Push(this->Memo(this->LineNumber()));
        return true;
      case pickle::BinPut:
        this->Put(this->Byte());
        return true;
      case pickle::LongBinPut:
        this->Put(this->Little(4));
        return true;
      case pickle::Put:
        this->Put(this->LineNumber());
        return true;
      case pickle::Memoize:
        this->Put(m_Memo.size());
        return true;
      default:
        return false;
    }
  }

  /** Opcodes that put objects into a new or an existing one. False for any other opcode. */
  bool
  Combine(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::Tuple: // a new container of the items above MARK
      case pickle::List:
      case pickle::Dict:
      case pickle::FrozenSet:
        this->Push(this->Contain(this->PopToMark()));
        return true;
      case pickle::Tuple1:
      case pickle::Tuple2:
      case pickle::Tuple3:
        this->Push(this->Contain(this->PopItems(opcode - pickle::Tuple1 + 1)));
        return true;
      case pickle::Append: // one or two items into the object below them
      case pickle::Build:
      case pickle::SetItem:
      {
        const std::vector<std::uint32_t> items = this->PopItems(opcode == pickle::SetItem ? 2 : 1);
        this->Grow(this->Top(), items);
        return true;
      }
      case pickle::Appends: // the items above MARK into the object below it
      case pickle::SetItems:
      case pickle::AddItems:
      {
        const std::vector<std::uint32_t> items = this->PopToMark();
        this->Grow(this->Top(), items);
        return true;
      }
      case pickle::Reduce: // callable, arguments
      case pickle::NewObj: // class, arguments
        this->Push(this->Contain(this->PopItems(2)));
        return true;
      case pickle::NewObjEx: // class, arguments, keyword arguments
        this->Push(this->Contain(this->PopItems(3)));
        return true;
      case pickle::BinPersId:
        this->Push(this->Contain(this->PopItems(1)));
        return true;
      default:
        return false;
    }
  }

  /** The top `count` objects of the stack, popped, in stack order. */
  std::vector<std::uint32_t>
  PopItems(unsigned int count)
  {
    std::vector<std::uint32_t> items(count);
    for (auto it = items.rbegin(); it != items.rend(); ++it)
    {
      *it = this->Pop();
    }
    return items;
  }

  [[noreturn]] void
  Fail(const std::string & what) const
  {
    throw InputError(m_Where + ": " + what + " (at byte " + std::to_string(m_Position) + ")");
  }

  unsigned char
  Byte()
  {
    if (m_Position >= m_Size)
    {
      this->Fail("truncated pickle");
    }
    return m_Bytes[m_Position++];
  }
  void
  Skip(std::uint64_t count)
  {
    if (count > m_Size - m_Position)
    {
      m_Position = m_Size;
      this->Fail("truncated pickle");
    }
    m_Position += static_cast<std::size_t>(count);
  }
  std::uint64_t
  Little(int count)
  {
    std::uint64_t value = 0;
    for (int i = 0; i < count; ++i)
    {
      value |= static_cast<std::uint64_t>(this->Byte()) << (8 * i);
    }
    return value;
  }
  void
  Line()
  {
    while (this->Byte() != '\n')
    {
    }
  }
  std::uint64_t
  LineNumber()
  {
    std::uint64_t value = 0;
    for (unsigned char c = this->Byte(); c != '\n'; c = this->Byte())
    {
      if (c < '0' || c > '9' || value > ArchiveLimits::MaxPickleMemo)
      {
        this->Fail("bad memo index");
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  std::uint32_t
  New(std::uint64_t depth)
  {
    if (m_Depth.size() >= ArchiveLimits::MaxPickleObjects)
    {
      this->Fail("more than " + std::to_string(ArchiveLimits::MaxPickleObjects) + " objects (limit)");
    }
    if (depth > ArchiveLimits::MaxPickleDepth)
    {
      this->Fail("objects nested deeper than " + std::to_string(ArchiveLimits::MaxPickleDepth) + " (limit)");
    }
    m_Depth.push_back(static_cast<std::uint32_t>(depth));
    m_Contained.push_back(false);
    return static_cast<std::uint32_t>(m_Depth.size() - 1);
  }
  std::uint64_t
  Deepest(const std::vector<std::uint32_t> & items)
  {
    std::uint64_t deepest = 0;
    for (const auto item : items)
    {
      deepest = std::max<std::uint64_t>(deepest, m_Depth[item]);
      m_Contained[item] = true;
    }
    return deepest;
  }
  /** A new object holding `items`. */
  std::uint32_t
  Contain(const std::vector<std::uint32_t> & items)
  {
    return this->New(1 + this->Deepest(items));
  }
  /** `items` added to an existing object: it may get deeper only while it is not yet inside
   * another object (the writers finish an object before nesting it), else the depth of the
   * objects holding it would no longer be known. */
  void
  Grow(std::uint32_t object, const std::vector<std::uint32_t> & items)
  {
    const std::uint64_t depth = 1 + this->Deepest(items);
    if (depth <= m_Depth[object])
    {
      return;
    }
    if (depth > ArchiveLimits::MaxPickleDepth)
    {
      this->Fail("objects nested deeper than " + std::to_string(ArchiveLimits::MaxPickleDepth) + " (limit)");
    }
    if (m_Contained[object])
    {
      this->Fail("an object is extended after it was nested in another (not written by torch.save)");
    }
    m_Depth[object] = static_cast<std::uint32_t>(depth);
  }

  void
  Push(std::uint32_t object)
  {
    if (m_Stack.size() >= ArchiveLimits::MaxPickleObjects)
    {
      this->Fail("more than " + std::to_string(ArchiveLimits::MaxPickleObjects) + " values on the stack (limit)");
    }
    m_Stack.push_back(object);
  }
  std::uint32_t
  Pop()
  {
    if (m_Stack.empty() || (!m_Marks.empty() && m_Stack.size() <= m_Marks.back()))
    {
      this->Fail("pickle stack underflow");
    }
    const std::uint32_t object = m_Stack.back();
    m_Stack.pop_back();
    return object;
  }
  std::uint32_t
  Top()
  {
    if (m_Stack.empty() || (!m_Marks.empty() && m_Stack.size() <= m_Marks.back()))
    {
      this->Fail("pickle stack underflow");
    }
    return m_Stack.back();
  }
  std::vector<std::uint32_t>
  PopToMark()
  {
    if (m_Marks.empty())
    {
      this->Fail("pickle MARK missing");
    }
    const std::size_t mark = m_Marks.back();
    m_Marks.pop_back();
    std::vector<std::uint32_t> items(m_Stack.begin() + static_cast<std::ptrdiff_t>(mark), m_Stack.end());
    m_Stack.resize(mark);
    return items;
  }
  std::uint32_t
  Memo(std::uint64_t index)
  {
    auto it = m_Memo.find(index);
    if (it == m_Memo.end())
    {
      this->Fail("pickle memo entry " + std::to_string(index) + " missing");
    }
    return it->second;
  }
  void
  Put(std::uint64_t index)
  {
    const std::uint32_t object = this->Top();
    if (m_Memo.size() >= ArchiveLimits::MaxPickleMemo && m_Memo.count(index) == 0)
    {
      this->Fail("more than " + std::to_string(ArchiveLimits::MaxPickleMemo) + " memo entries (limit)");
    }
    m_Memo[index] = object;
  }

  const unsigned char *                            m_Bytes;
  std::size_t                                      m_Size;
  std::size_t                                      m_Position = 0;
  std::string                                      m_Where;
  std::vector<std::uint32_t>                       m_Depth;
  std::vector<bool>                                m_Contained;
  std::vector<std::uint32_t>                       m_Stack;
  std::vector<std::size_t>                         m_Marks;
  std::unordered_map<std::uint64_t, std::uint32_t> m_Memo;
};

} // namespace

void
ScanPickle(const unsigned char * bytes, std::size_t size, const std::string & context, const std::string & record)
{
  PickleScanner(bytes, size, context + ": " + record).Run();
}

} // namespace nsa
