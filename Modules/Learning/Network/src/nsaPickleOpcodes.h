#ifndef nsaPickleOpcodes_h
#define nsaPickleOpcodes_h

#include <string>

namespace nsa
{
namespace pickle
{

/** The pickle opcodes of protocols 0 to 4 that torch.save, LibTorch's pickler and the archive
 * check meet, with the names Python's `pickletools` gives them. Shared by the archive check
 * (nsaArchiveCheck.cxx, which scans any pickle for its limits) and the state-dict reader
 * (nsaStateDictReader.cxx, which interprets the subset a state dict uses), so that the two
 * agree on what each byte means. */
enum Opcode : unsigned char
{
  Mark = '(',
  Stop = '.',
  Pop = '0',
  PopMark = '1',
  Dup = '2',
  Float = 'F',
  Int = 'I',
  BinInt = 'J',
  BinInt1 = 'K',
  Long = 'L',
  BinInt2 = 'M',
  None = 'N',
  BinPersId = 'Q',
  Reduce = 'R',
  String = 'S',
  BinString = 'T',
  ShortBinString = 'U',
  Unicode = 'V',
  BinUnicode = 'X',
  Append = 'a',
  Build = 'b',
  Global = 'c',
  Dict = 'd',
  Appends = 'e',
  Get = 'g',
  BinGet = 'h',
  LongBinGet = 'j',
  List = 'l',
  Put = 'p',
  BinPut = 'q',
  LongBinPut = 'r',
  SetItem = 's',
  Tuple = 't',
  SetItems = 'u',
  EmptyDict = '}',
  EmptyList = ']',
  EmptyTuple = ')',
  BinFloat = 'G',
  BinBytes = 'B',
  ShortBinBytes = 'C',
  Proto = 0x80,
  NewObj = 0x81,
  Tuple1 = 0x85,
  Tuple2 = 0x86,
  Tuple3 = 0x87,
  NewTrue = 0x88,
  NewFalse = 0x89,
  Long1 = 0x8a,
  Long4 = 0x8b,
  ShortBinUnicode = 0x8c,
  BinUnicode8 = 0x8d,
  BinBytes8 = 0x8e,
  EmptySet = 0x8f,
  AddItems = 0x90,
  FrozenSet = 0x91,
  NewObjEx = 0x92,
  StackGlobal = 0x93,
  Memoize = 0x94,
  Frame = 0x95,
  ByteArray8 = 0x96
};

/** An opcode as it appears in messages: "0x" and two hexadecimal digits. */
inline std::string
OpcodeText(unsigned int opcode)
{
  const char * digits = "0123456789abcdef";
  return std::string{ '0', 'x', digits[(opcode >> 4) & 15], digits[opcode & 15] };
}

} // namespace pickle
} // namespace nsa

#endif
