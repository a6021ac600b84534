#include "nsaStateDictReader.h"

#include "nsaArchiveCheck.h"
#include "nsaError.h"
#include "nsaJsonText.h"
#include "nsaPickleOpcodes.h"

#include <ATen/Functions.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <map>
#include <memory>

namespace nsa
{

namespace
{

/** A Python object as far as a state dict needs one. */
struct PickleValue
{
  enum class Kind
  {
    None,
    Bool,
    Int,
    Float,
    String,
    Tuple,
    List,
    Dict,
    Global,
    Tensor
  };
  Kind                                                                     kind = Kind::None;
  std::int64_t                                                             integer = 0;
  double                                                                   real = 0.0;
  std::string                                                              text; // string, or "module.name"
  std::vector<std::shared_ptr<PickleValue>>                                items;
  std::vector<std::pair<std::shared_ptr<PickleValue>, std::shared_ptr<PickleValue>>> entries;
  at::Tensor                                                               tensor;
};
using Value = std::shared_ptr<PickleValue>;

Value
Make(PickleValue::Kind kind)
{
  auto value = std::make_shared<PickleValue>();
  value->kind = kind;
  return value;
}

/** \class PickleReader
 * \brief Interprets the pickle opcodes Python's torch.save (protocols 2 to 4) and LibTorch's
 * pickler write for dicts of tensors.
 *
 * LibTorch 1.13's own unpickler turns collections.OrderedDict (the type of every
 * `model.state_dict()`) into None and rejects SETITEM, so it cannot read the files the paper's
 * code writes; this reader builds OrderedDicts as dicts, rebuilds tensors from the
 * archive's storages and ignores the `_metadata` state (BUILD). Anything else a state dict
 * does not contain (arbitrary classes) is refused with its Python name.
 */
class PickleReader
{
public:
  PickleReader(caffe2::serialize::PyTorchStreamReader & archive, const std::string & context)
    : m_Archive(archive)
    , m_Context(context)
  {
    auto record = archive.getRecord("data.pkl");
    m_Data = std::move(std::get<0>(record));
    m_Size = std::get<1>(record);
    m_Bytes = static_cast<const unsigned char *>(m_Data.get());
  }

  Value
  Run()
  {
    while (true)
    {
      const unsigned char opcode = this->Byte();
      switch (opcode)
      {
        case pickle::Proto:
          this->Byte();
          break;
        case pickle::Frame:
          this->Skip(8);
          break;
        case pickle::Global:
        {
          const std::string module = this->Line();
          const std::string name = this->Line();
          this->PushGlobal(module, name);
          break;
        }
        case pickle::StackGlobal:
        {
          const Value name = this->Pop();
          const Value module = this->Pop();
          this->PushGlobal(module->text, name->text);
          break;
        }
        case pickle::Mark:
          m_Marks.push_back(m_Stack.size());
          break;
        case pickle::Pop:
        case pickle::Build: // the state of an OrderedDict (its _metadata) is not needed
          this->Pop();
          break;
        case pickle::Stop:
          return this->Pop();
        default:
          if (!this->PushScalar(opcode) && !this->UseMemo(opcode) && !this->Combine(opcode))
          {
            this->Fail("unsupported pickle opcode " + pickle::OpcodeText(opcode));
          }
      }
    }
  }

private:
  /** Opcodes that push a constant, a number or a string. False for any other opcode. */
  bool
  PushScalar(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::BinUnicode:
      case pickle::BinString:
        this->PushString(this->UInt32());
        return true;
      case pickle::ShortBinUnicode:
      case pickle::ShortBinString:
        this->PushString(this->Byte());
        return true;
      case pickle::BinInt1:
        this->PushInteger(this->Byte());
        return true;
      case pickle::BinInt2:
      {
        const std::uint32_t low = this->Byte();
        this->PushInteger(low | (static_cast<std::uint32_t>(this->Byte()) << 8));
        return true;
      }
      case pickle::BinInt:
        this->PushInteger(static_cast<std::int32_t>(this->UInt32()));
        return true;
      case pickle::Long1:
        this->PushInteger(this->Long1Operand());
        return true;
      case pickle::BinFloat:
      {
        auto value = Make(PickleValue::Kind::Float);
        value->real = this->BinFloatOperand();
        this->Push(value);
        return true;
      }
      case pickle::NewTrue:
      case pickle::NewFalse:
      {
        auto value = Make(PickleValue::Kind::Bool);
        value->integer = opcode == pickle::NewTrue;
        this->Push(value);
        return true;
      }
      case pickle::None:
        this->Push(Make(PickleValue::Kind::None));
        return true;
      default:
        return false;
    }
  }

  /** Memo reads and writes. False for any other opcode. */
  bool
  UseMemo(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::BinPut:
        m_Memo[this->Byte()] = this->Top();
        return true;
      case pickle::LongBinPut:
        m_Memo[this->UInt32()] = this->Top();
        return true;
      case pickle::Memoize:
        m_Memo[static_cast<std::uint32_t>(m_Memo.size())] = this->Top();
        return true;
      case pickle::BinGet:
        this->Push(this->Memo(this->Byte()));
        return true;
      case pickle::LongBinGet:
        this->Push(this->Memo(this->UInt32()));
        return true;
      default:
        return false;
    }
  }

  /** Opcodes that build tuples, lists and dicts, fill them, call a global or load a tensor
   * storage. False for any other opcode. */
  bool
  Combine(unsigned char opcode)
  {
    switch (opcode)
    {
      case pickle::EmptyTuple:
        this->Push(Make(PickleValue::Kind::Tuple));
        return true;
      case pickle::EmptyList:
        this->Push(Make(PickleValue::Kind::List));
        return true;
      case pickle::EmptyDict:
        this->Push(Make(PickleValue::Kind::Dict));
        return true;
      case pickle::Tuple:
      case pickle::List:
      {
        auto value = Make(opcode == pickle::Tuple ? PickleValue::Kind::Tuple : PickleValue::Kind::List);
        value->items = this->PopToMark();
        this->Push(value);
        return true;
      }
      case pickle::Tuple1:
      case pickle::Tuple2:
      case pickle::Tuple3:
      {
        auto value = Make(PickleValue::Kind::Tuple);
        value->items.resize(opcode - pickle::Tuple1 + 1);
        for (auto it = value->items.rbegin(); it != value->items.rend(); ++it)
        {
          *it = this->Pop();
        }
        this->Push(value);
        return true;
      }
      case pickle::SetItem:
      {
        const Value value = this->Pop();
        const Value key = this->Pop();
        this->Expect(this->Top(), PickleValue::Kind::Dict, "SETITEM")->entries.emplace_back(key, value);
        return true;
      }
      case pickle::SetItems:
      {
        const std::vector<Value> items = this->PopToMark();
        const Value              dict = this->Expect(this->Top(), PickleValue::Kind::Dict, "SETITEMS");
        for (std::size_t i = 0; i + 1 < items.size(); i += 2)
        {
          dict->entries.emplace_back(items[i], items[i + 1]);
        }
        return true;
      }
      case pickle::Append:
      {
        const Value value = this->Pop();
        this->Expect(this->Top(), PickleValue::Kind::List, "APPEND")->items.push_back(value);
        return true;
      }
      case pickle::Appends:
      {
        const std::vector<Value> items = this->PopToMark();
        auto                     list = this->Expect(this->Top(), PickleValue::Kind::List, "APPENDS");
        list->items.insert(list->items.end(), items.begin(), items.end());
        return true;
      }
      case pickle::Reduce:
      {
        const Value arguments = this->Pop();
        const Value callable = this->Pop();
        this->Push(this->Call(callable, arguments));
        return true;
      }
      case pickle::BinPersId:
        this->Push(this->LoadStorage(this->Pop()));
        return true;
      default:
        return false;
    }
  }

  /** LONG1's operand: a length byte, then a little-endian two's-complement integer. */
  std::int64_t
  Long1Operand()
  {
    const unsigned int count = this->Byte();
    std::uint64_t      bits = 0;
    for (unsigned int i = 0; i < count; ++i)
    {
      const std::uint64_t byte = this->Byte();
      if (i < 8)
      {
        bits |= byte << (8 * i);
      }
    }
    if (count > 0 && count < 8 && (bits >> (8 * count - 1)) & 1)
    {
      bits |= ~std::uint64_t{ 0 } << (8 * count); // sign-extend
    }
    return static_cast<std::int64_t>(bits);
  }

  /** BINFLOAT's operand: a big-endian IEEE double. */
  double
  BinFloatOperand()
  {
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
    {
      bits = (bits << 8) | this->Byte();
    }
    double real = 0.0;
    std::memcpy(&real, &bits, sizeof(double));
    return real;
  }

  [[noreturn]] void
  Fail(const std::string & what) const
  {
    throw InputError(m_Context + ": " + what + " (at byte " + std::to_string(m_Position) + " of data.pkl)");
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
  Skip(std::size_t count)
  {
    for (std::size_t i = 0; i < count; ++i)
    {
      this->Byte();
    }
  }
  std::uint32_t
  UInt32()
  {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
    {
      value |= static_cast<std::uint32_t>(this->Byte()) << (8 * i);
    }
    return value;
  }
  std::string
  Line()
  {
    std::string line;
    for (unsigned char c = this->Byte(); c != '\n'; c = this->Byte())
    {
      line += static_cast<char>(c);
    }
    return line;
  }

  void
  Push(Value value)
  {
    m_Stack.push_back(std::move(value));
  }
  Value
  Pop()
  {
    if (m_Stack.empty() || (!m_Marks.empty() && m_Stack.size() <= m_Marks.back()))
    {
      this->Fail("pickle stack underflow");
    }
    Value value = m_Stack.back();
    m_Stack.pop_back();
    return value;
  }
  const Value &
  Top()
  {
    if (m_Stack.empty())
    {
      this->Fail("pickle stack underflow");
    }
    return m_Stack.back();
  }
  std::vector<Value>
  PopToMark()
  {
    if (m_Marks.empty())
    {
      this->Fail("pickle MARK missing");
    }
    const std::size_t mark = m_Marks.back();
    m_Marks.pop_back();
    std::vector<Value> items(m_Stack.begin() + mark, m_Stack.end());
    m_Stack.resize(mark);
    return items;
  }
  Value
  Memo(std::uint32_t index)
  {
    auto it = m_Memo.find(index);
    if (it == m_Memo.end())
    {
      this->Fail("pickle memo entry " + std::to_string(index) + " missing");
    }
    return it->second;
  }
  Value
  Expect(const Value & value, PickleValue::Kind kind, const char * opcode)
  {
    if (value->kind != kind)
    {
      this->Fail(std::string("unexpected object under ") + opcode);
    }
    return value;
  }
  void
  PushGlobal(const std::string & module, const std::string & name)
  {
    auto value = Make(PickleValue::Kind::Global);
    value->text = module + "." + name;
    this->Push(value);
  }
  void
  PushString(std::size_t length)
  {
    auto value = Make(PickleValue::Kind::String);
    for (std::size_t i = 0; i < length; ++i)
    {
      value->text += static_cast<char>(this->Byte());
    }
    this->Push(value);
  }
  void
  PushInteger(std::int64_t integer)
  {
    auto value = Make(PickleValue::Kind::Int);
    value->integer = integer;
    this->Push(value);
  }

  std::vector<std::int64_t>
  IntegerTuple(const Value & value)
  {
    std::vector<std::int64_t> integers;
    for (const auto & item : value->items)
    {
      if (item->kind != PickleValue::Kind::Int)
      {
        this->Fail("tensor size or stride is not an integer");
      }
      integers.push_back(item->integer);
    }
    return integers;
  }

  Value
  Call(const Value & callable, const Value & arguments)
  {
    if (callable->kind != PickleValue::Kind::Global)
    {
      this->Fail("REDUCE of a non-class object");
    }
    const std::string & name = callable->text;
    const auto &        args = arguments->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict")
    {
      return Make(PickleValue::Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    {
      if (args.size() < 4 || args[0]->kind != PickleValue::Kind::Tensor)
      {
        this->Fail("malformed " + name + " arguments");
      }
      auto value = Make(PickleValue::Kind::Tensor);
      value->tensor = args[0]->tensor.as_strided(this->IntegerTuple(args[2]), this->IntegerTuple(args[3]), args[1]->integer);
      return value;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch.jit._pickle.restore_type_tag")
    {
      if (args.empty())
      {
        this->Fail("malformed " + name + " arguments");
      }
      return args[0];
    }
    this->Fail("the file holds a Python object of type '" + name +
               "', not a dict of tensors (save model.state_dict(), not the model)");
  }

  Value
  LoadStorage(const Value & id)
  {
    // ('storage', <class torch.FloatStorage>, key, location, numel)
    if (id->kind != PickleValue::Kind::Tuple || id->items.size() < 5 || id->items[1]->kind != PickleValue::Kind::Global)
    {
      this->Fail("unexpected persistent id (not a tensor storage)");
    }
    const std::string & key = id->items[2]->text;
    auto                cached = m_Storages.find(key);
    if (cached != m_Storages.end())
    {
      return cached->second;
    }
    static const std::map<std::string, at::ScalarType> types{
      { "torch.FloatStorage", at::kFloat }, { "torch.DoubleStorage", at::kDouble },
      { "torch.HalfStorage", at::kHalf },   { "torch.BFloat16Storage", at::kBFloat16 },
      { "torch.LongStorage", at::kLong },   { "torch.IntStorage", at::kInt },
      { "torch.ShortStorage", at::kShort }, { "torch.CharStorage", at::kChar },
      { "torch.ByteStorage", at::kByte },   { "torch.BoolStorage", at::kBool },
    };
    auto type = types.find(id->items[1]->text);
    if (type == types.end())
    {
      this->Fail("unsupported storage type '" + id->items[1]->text + "'");
    }
    const std::int64_t numel = id->items[4]->integer;
    if (id->items[2]->kind != PickleValue::Kind::String || id->items[4]->kind != PickleValue::Kind::Int || numel < 0)
    {
      this->Fail("malformed tensor storage reference");
    }
    if (!m_Archive.hasRecord("data/" + key))
    {
      this->Fail("storage 'data/" + ShortenForMessage(key) + "' is missing");
    }
    // The record is stored uncompressed (CheckArchive), so reading it costs at most the
    // file's size; the tensor is allocated only once the record is known to hold it.
    auto                record = m_Archive.getRecord("data/" + key);
    const std::uint64_t elementSize = c10::elementSize(type->second);
    std::uint64_t       bytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(numel), elementSize, &bytes) || std::get<1>(record) < bytes)
    {
      this->Fail("storage 'data/" + ShortenForMessage(key) + "' holds " + std::to_string(std::get<1>(record)) +
                 " bytes, fewer than the " + std::to_string(numel) + " elements its tensor claims");
    }
    auto value = Make(PickleValue::Kind::Tensor);
    value->tensor = at::empty({ numel }, at::TensorOptions().dtype(type->second));
    std::memcpy(value->tensor.data_ptr(), std::get<0>(record).get(), static_cast<std::size_t>(bytes));
    m_Storages[key] = value;
    return value;
  }

  caffe2::serialize::PyTorchStreamReader & m_Archive;
  std::string                              m_Context;
  at::DataPtr                              m_Data;
  std::size_t                              m_Size = 0;
  const unsigned char *                    m_Bytes = nullptr;
  std::size_t                              m_Position = 0;
  std::vector<Value>                       m_Stack;
  std::vector<std::size_t>                 m_Marks;
  std::map<std::uint32_t, Value>           m_Memo;
  std::map<std::string, Value>             m_Storages;
};

bool
CollectTensors(const Value & value, std::vector<std::pair<std::string, at::Tensor>> & tensors)
{
  if (value->kind != PickleValue::Kind::Dict)
  {
    return false;
  }
  std::vector<std::pair<std::string, at::Tensor>> collected;
  for (const auto & entry : value->entries)
  {
    if (entry.first->kind != PickleValue::Kind::String || entry.second->kind != PickleValue::Kind::Tensor)
    {
      return false;
    }
    collected.emplace_back(entry.first->text, entry.second->tensor);
  }
  tensors = std::move(collected);
  return true;
}

} // namespace

std::vector<std::pair<std::string, at::Tensor>>
ReadStateDict(const std::string & path)
{
  const std::string context = "state dict '" + path + "'";
  // Zip structure, CRCs, record sizes and pickle bounds before anything is allocated on the
  // file's word; the pickle's nesting is bounded, so building and freeing it cannot overflow
  // the stack.
  CheckArchive(path, context);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  try
  {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  }
  catch (const c10::Error & error)
  {
    throw InputError(context + ": not a PyTorch zip archive (torch.save of PyTorch 1.6 or newer): " +
                     error.what_without_backtrace());
  }
  Value root;
  try
  {
    root = PickleReader(*archive, context).Run();
  }
  catch (const c10::Error & error)
  {
    throw InputError(context + ": " + error.what_without_backtrace());
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  if (CollectTensors(root, tensors))
  {
    return tensors;
  }
  if (root->kind == PickleValue::Kind::Dict)
  {
    for (const auto & entry : root->entries)
    {
      if (entry.first->kind == PickleValue::Kind::String &&
          (entry.first->text == "model_state_dict" || entry.first->text == "state_dict") &&
          CollectTensors(entry.second, tensors))
      {
        return tensors;
      }
    }
  }
  throw InputError(context +
                   ": expected a dict of name -> tensor (model.state_dict()), or a dict holding one under "
                   "'model_state_dict' or 'state_dict'");
}

} // namespace nsa
