#ifndef nsaParameterFlags_h
#define nsaParameterFlags_h

#include "nsaCommandLine.h"
#include "nsaParameterJson.h"
#include "nsaParameters.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace nsa
{

/** \file nsaParameterFlags.h
 * \brief Command-line flags read from a parameter structure's own field list.
 *
 * A program's flags for the keys of a parameter structure (nsaParameters.h) carry the key's
 * name (`--blend_mode` sets `synthesis.blend_mode`). ApplyParameterFlags() walks the
 * structure's Visit() list once: every key that the program's description declares and the
 * user gave is read with the key's type and applied through the JSON reader, so the range
 * checks and messages are the structure's own. DescribeFlagMismatches() checks that a
 * description declares those flags as Visit() does (type, range, choices, default); each
 * program's test runs it, so the XML and the structures cannot drift apart.
 *
 * A choice flag is a Slicer `<string-enumeration>`: a drop-down in Slicer. Where the
 * program's values come from a preset or a model, its first element and default is the
 * "keep" choice (`keepChoice`, "default" or "model"): left at it, the flag changes nothing,
 * as an absent flag does on the command line, and no flag may declare a default of its own.
 * Where they do not (an empty `keepChoice`: the structure's defaults are the program's), a
 * flag may declare a default, and it must be the key's.
 */

/** The device choices a description lists (JSON also accepts any cuda:N). */
inline std::vector<std::string>
DeviceChoices()
{
  std::vector<std::string> choices{ "auto", "cpu", "cuda" };
  for (int i = 0; i < 8; ++i)
  {
    choices.push_back("cuda:" + std::to_string(i));
  }
  return choices;
}

namespace detail
{

/** Collects the flags a user gave for a structure's keys into a JSON object. */
class FlagCollector
{
public:
  FlagCollector(const ProgramContext & program, std::string keepChoice)
    : m_Program(program)
    , m_KeepChoice(std::move(keepChoice))
  {}

  void
  Integer(const char * key, const int &, int, int, const char *)
  {
    if (this->Given(key))
    {
      m_Flags[key] = m_Program.GetInteger(key);
    }
  }
  void
  Real(const char * key, const double &, double, double, const char *)
  {
    if (this->Given(key))
    {
      m_Flags[key] = m_Program.GetDouble(key);
    }
  }
  void
  OptionalReal(const char * key, const std::optional<double> &, double, double, const char *)
  {
    if (this->Given(key))
    {
      m_Flags[key] = m_Program.GetDouble(key);
    }
  }
  void
  Boolean(const char * key, const bool &, const char *)
  {
    if (this->Given(key))
    {
      m_Flags[key] = m_Program.GetBoolean(key);
    }
  }
  template <typename TEnum>
  void
  Choice(const char * key, const TEnum &, const char *)
  {
    this->String(key);
  }
  void
  Text(const char * key, const std::string &, const char *)
  {
    this->String(key);
  }
  void
  RealVector(const char * key, const std::vector<double> &, double, double, const std::vector<std::size_t> &,
             const char *)
  {
    if (this->Given(key))
    {
      m_Flags[key] = m_Program.GetDoubleVector(key);
    }
  }

  const nlohmann::json &
  Flags() const
  {
    return m_Flags;
  }

private:
  /** True when the description declares the key and the user gave it. */
  bool
  Given(const char * key) const
  {
    return m_Program.Description().Find(key) != nullptr && m_Program.Arguments().WasGiven(key);
  }
  void
  String(const char * key)
  {
    if (this->Given(key))
    {
      const std::string value = m_Program.GetString(key);
      if (m_KeepChoice.empty() || value != m_KeepChoice)
      {
        m_Flags[key] = value;
      }
    }
  }

  const ProgramContext & m_Program;
  std::string            m_KeepChoice;
  nlohmann::json         m_Flags = nlohmann::json::object();
};

/** Compares a description's parameters with a structure's keys. */
class FlagChecker
{
public:
  FlagChecker(const ModuleDescription & description, std::string keepChoice)
    : m_Description(description)
    , m_KeepChoice(std::move(keepChoice))
  {}

  void
  Integer(const char * key, const int & value, int minimum, int maximum, const char *)
  {
    if (const auto * p = this->Declared(key, { "integer" }))
    {
      this->Range(*p, minimum, maximum);
      this->Default(*p, { static_cast<double>(value) });
    }
  }
  void
  Real(const char * key, const double & value, double minimum, double maximum, const char *)
  {
    if (const auto * p = this->Declared(key, { "double", "float" }))
    {
      this->Range(*p, minimum, maximum);
      this->Default(*p, { value });
    }
  }
  void
  OptionalReal(const char * key, const std::optional<double> & value, double minimum, double maximum, const char *)
  {
    if (const auto * p = this->Declared(key, { "double", "float" }))
    {
      this->Range(*p, minimum, maximum);
      this->Default(*p, value ? std::vector<double>{ *value } : std::vector<double>{});
    }
  }
  void
  Boolean(const char * key, const bool & value, const char *)
  {
    if (const auto * p = this->Declared(key, { "boolean" }))
    {
      // A Slicer boolean is a switch: it can only turn a false default on.
      if (value)
      {
        this->Fail(*p, "is a switch, but the key's default is true, so the switch could not change it");
      }
      else if (p->hasDefault && p->defaultValue != "false")
      {
        this->Fail(*p, "has the default '" + p->defaultValue + "'; a switch is off unless given");
      }
    }
  }
  template <typename TEnum>
  void
  Choice(const char * key, const TEnum & value, const char *)
  {
    if (const auto * p = this->Declared(key, { "string-enumeration" }))
    {
      this->Elements(*p, ModeChoices<TEnum>(), std::string(ToString(value)));
    }
  }
  void
  Text(const char * key, const std::string & value, const char *)
  {
    if (const auto * p = this->Declared(key, { "string", "string-enumeration" }))
    {
      if (p->tag == "string-enumeration")
      {
        // The only free-text key offered as a drop-down: a device.
        this->Elements(*p, DeviceChoices(), value);
      }
      else if (p->hasDefault && (!m_KeepChoice.empty() || p->defaultValue != value))
      {
        this->FailDefault(*p, value);
      }
    }
  }
  void
  RealVector(const char * key, const std::vector<double> & value, double minimum, double maximum,
             const std::vector<std::size_t> &, const char *)
  {
    if (const auto * p = this->Declared(key, { "double-vector", "float-vector" }))
    {
      this->Range(*p, minimum, maximum);
      this->Default(*p, value);
    }
  }

  const std::vector<std::string> &
  Mismatches() const
  {
    return m_Mismatches;
  }

private:
  const ParameterDescription *
  Declared(const char * key, const std::vector<std::string> & tags)
  {
    const ParameterDescription * p = m_Description.Find(key);
    if (!p)
    {
      return nullptr;
    }
    if (p->longflag != key)
    {
      this->Fail(*p, "has the flag --" + p->longflag + " instead of --" + key);
    }
    bool tagOk = false;
    std::string expected;
    for (const auto & tag : tags)
    {
      tagOk = tagOk || p->tag == tag;
      expected += (expected.empty() ? "" : " or ") + ("<" + tag + ">");
    }
    if (!tagOk)
    {
      this->Fail(*p, "is <" + p->tag + ">, the key needs " + expected);
      return nullptr;
    }
    return p;
  }

  /** With a keep choice, values come from a preset or a model and a default in the
   * description would override them; without one, a declared default must be the key's. */
  void
  Default(const ParameterDescription & p, const std::vector<double> & keyDefault)
  {
    if (!p.hasDefault)
    {
      return;
    }
    bool same = m_KeepChoice.empty();
    std::vector<double> declared;
    try
    {
      std::stringstream items(p.defaultValue);
      for (std::string item; std::getline(items, item, ',');)
      {
        std::size_t used = 0;
        declared.push_back(std::stod(item, &used));
        same = same && used == item.size();
      }
    }
    catch (const std::exception &)
    {
      same = false;
    }
    same = same && declared.size() == keyDefault.size();
    for (std::size_t i = 0; same && i < declared.size(); ++i)
    {
      same = std::fabs(declared[i] - keyDefault[i]) <= 1e-12 * std::max(1.0, std::fabs(keyDefault[i]));
    }
    if (!same)
    {
      std::string text;
      for (const double v : keyDefault)
      {
        text += (text.empty() ? "" : ",") + FormatNumber(v);
      }
      this->FailDefault(p, text);
    }
  }
  void
  FailDefault(const ParameterDescription & p, const std::string & keyDefault)
  {
    if (m_KeepChoice.empty())
    {
      this->Fail(p, "has the default '" + p.defaultValue + "', " +
                      (keyDefault.empty() ? std::string("the key is unset by default")
                                          : "the key's is '" + keyDefault + "'"));
    }
    else
    {
      this->Fail(p, "has a default ('" + p.defaultValue + "'); the value must come from the parameters");
    }
  }

  void
  Range(const ParameterDescription & p, double minimum, double maximum)
  {
    // A key's unbounded side is declared without a constraint.
    const auto declarable = [](double bound) {
      return std::fabs(bound) == Unbounded ? std::optional<double>() : std::optional<double>(bound);
    };
    const auto same = [](const std::optional<double> & declared, const std::optional<double> & key) {
      if (!declared || !key)
      {
        return declared.has_value() == key.has_value();
      }
      return std::fabs(*declared - *key) <= 1e-12 * std::max(1.0, std::fabs(*key));
    };
    const auto text = [](const std::optional<double> & value) {
      return value ? FormatNumber(*value) : std::string("none");
    };
    const std::optional<double> low = declarable(minimum);
    const std::optional<double> high = declarable(maximum);
    if (!same(p.minimum, low) || !same(p.maximum, high))
    {
      this->Fail(p, "declares the range [" + text(p.minimum) + ", " + text(p.maximum) + "], the key [" + text(low) +
                      ", " + text(high) + "]");
    }
  }


  void
  Elements(const ParameterDescription & p, const std::vector<std::string> & allowed, const std::string & keyDefault)
  {
    std::vector<std::string> expected;
    if (!m_KeepChoice.empty())
    {
      expected.push_back(m_KeepChoice);
    }
    expected.insert(expected.end(), allowed.begin(), allowed.end());
    const auto join = [](const std::vector<std::string> & items) {
      std::string text;
      for (const auto & item : items)
      {
        text += (text.empty() ? "" : ", ") + item;
      }
      return text;
    };
    if (p.elements != expected)
    {
      this->Fail(p, "lists the choices {" + join(p.elements) + "}, the key {" + join(expected) + "}");
    }
    if (!m_KeepChoice.empty() && (!p.hasDefault || p.defaultValue != m_KeepChoice))
    {
      this->Fail(p, "must default to '" + m_KeepChoice + "' (keep the parameters' value)");
    }
    if (m_KeepChoice.empty() && p.hasDefault && p.defaultValue != keyDefault)
    {
      this->FailDefault(p, keyDefault);
    }
  }

  void
  Fail(const ParameterDescription & p, const std::string & what)
  {
    m_Mismatches.push_back("parameter '" + p.name + "' " + what);
  }

  const ModuleDescription & m_Description;
  std::string               m_KeepChoice;
  std::vector<std::string>  m_Mismatches;
};

} // namespace detail

/** Applies the flags the user gave for `parameters`' keys (see the file comment); a choice
 * left at `keepChoice` changes nothing. Range and choice errors are the JSON reader's,
 * prefixed "command line". */
template <typename TParameters>
void
ApplyParameterFlags(const ProgramContext & program, TParameters & parameters, const std::string & keepChoice = "")
{
  detail::FlagCollector collector(program, keepChoice);
  TParameters::Visit(static_cast<const TParameters &>(parameters), collector);
  UpdateFromJson(parameters, collector.Flags(), "command line");
}

/** Every way in which `description` declares the keys of TParameters differently from
 * TParameters::Visit (flag name, type, range, choices and keep choice, no other default);
 * empty when they agree. Keys the description does not declare are not flags of the
 * program and are skipped. */
template <typename TParameters>
std::vector<std::string>
DescribeFlagMismatches(const ModuleDescription & description, const std::string & keepChoice = "")
{
  const TParameters   defaults{};
  detail::FlagChecker checker(description, keepChoice);
  TParameters::Visit(defaults, checker);
  return checker.Mismatches();
}

} // namespace nsa

#endif
