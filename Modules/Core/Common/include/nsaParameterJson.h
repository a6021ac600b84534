#ifndef nsaParameterJson_h
#define nsaParameterJson_h

#include "nsaError.h"
#include "nsaJsonText.h"
#include "nsaParameters.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace nsa
{

/** \file nsaParameterJson.h
 * \brief The JSON form of the parameter structures (nsaParameters.h).
 *
 * A parameter structure lists its fields once, in
 * `template <class TSelf, class V> static void Visit(TSelf & self, V & v)` (TSelf is the
 * structure, const or not), calling for each field one of
 *
 *   v.Integer(key, int &, minimum, maximum, doc)
 *   v.Real(key, double &, minimum, maximum, doc)
 *   v.OptionalReal(key, std::optional<double> &, minimum, maximum, doc)
 *   v.Boolean(key, bool &, doc)
 *   v.Choice(key, TEnum &, doc)        (a mode of nsaModes.h; its names are the choices)
 *   v.Text(key, std::string &, doc)
 *   v.RealVector(key, std::vector<double> &, minimum, maximum, {allowed sizes...}, doc)
 *
 * and checks relations between fields in `void Validate() const`. The visitors below read,
 * write and document every structure from that single list, so a key has one name in JSON,
 * on the command line and in the documentation.
 */

/** Turns a JSON value into text for messages, cut to JsonLimits::MessageCharacters
 * characters (a long string is cut before it is quoted, so a 50 MB value costs nothing). */
inline std::string
JsonForMessage(const nlohmann::json & value)
{
  if (value.is_string())
  {
    const std::string & text = value.get_ref<const std::string &>();
    return nlohmann::json(ShortenForMessage(text, JsonLimits::MessageCharacters - 2)).dump();
  }
  return ShortenForMessage(value.dump(), JsonLimits::MessageCharacters);
}

/** Reads fields from a JSON object; rejects unknown keys, wrong types and values outside
 * the allowed range with a message naming `context.key` and what is allowed. Keys that are
 * absent keep their current value. */
class JsonFieldReader
{
public:
  JsonFieldReader(const nlohmann::json & object, std::string context)
    : m_Object(object)
    , m_Context(std::move(context))
  {
    if (!m_Object.is_object())
    {
      throw ParameterError(m_Context + ": expected a JSON object, got " + JsonForMessage(m_Object));
    }
  }

  void
  Integer(const char * key, int & value, int minimum, int maximum, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    const bool integral = item->is_number_integer() ||
                          (item->is_number_float() && std::floor(item->get<double>()) == item->get<double>());
    if (!integral)
    {
      this->Fail(key, "expected an integer, got " + JsonForMessage(*item));
    }
    const double number = item->get<double>();
    if (number < minimum || number > maximum)
    {
      this->Fail(key,
                 JsonForMessage(*item) + " is out of range [" + std::to_string(minimum) + ", " +
                   std::to_string(maximum) + "]");
    }
    value = static_cast<int>(number);
  }

  void
  Real(const char * key, double & value, double minimum, double maximum, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (item)
    {
      value = this->CheckedReal(key, *item, minimum, maximum);
    }
  }

  void
  OptionalReal(const char * key, std::optional<double> & value, double minimum, double maximum, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    if (item->is_null())
    {
      value.reset();
      return;
    }
    value = this->CheckedReal(key, *item, minimum, maximum);
  }

  void
  Boolean(const char * key, bool & value, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    if (!item->is_boolean())
    {
      this->Fail(key, "expected true or false, got " + JsonForMessage(*item));
    }
    value = item->get<bool>();
  }

  template <typename TEnum>
  void
  Choice(const char * key, TEnum & value, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    if (!item->is_string())
    {
      this->Fail(key, "expected one of " + QuotedModeChoices<TEnum>() + ", got " + JsonForMessage(*item));
    }
    const std::string & text = item->get_ref<const std::string &>();
    if (!TryFromString(text, value))
    {
      this->Fail(key, "'" + ShortenForMessage(text) + "' is not one of " + QuotedModeChoices<TEnum>());
    }
  }

  void
  Text(const char * key, std::string & value, const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    if (!item->is_string())
    {
      this->Fail(key, "expected a string, got " + JsonForMessage(*item));
    }
    value = item->get<std::string>();
  }

  void
  RealVector(const char *                      key,
             std::vector<double> &             value,
             double                            minimum,
             double                            maximum,
             const std::vector<std::size_t> & allowedSizes,
             const char *)
  {
    const nlohmann::json * item = this->Find(key);
    if (!item)
    {
      return;
    }
    if (!item->is_array())
    {
      this->Fail(key, "expected a list of numbers, got " + JsonForMessage(*item));
    }
    if (!allowedSizes.empty())
    {
      bool sizeOk = false;
      for (auto size : allowedSizes)
      {
        sizeOk = sizeOk || size == item->size();
      }
      if (!sizeOk)
      {
        std::string sizes;
        for (auto size : allowedSizes)
        {
          sizes += (sizes.empty() ? "" : " or ") + std::to_string(size);
        }
        this->Fail(key, "expected " + sizes + " numbers, got " + std::to_string(item->size()));
      }
    }
    std::vector<double> result;
    for (const auto & element : *item)
    {
      result.push_back(this->CheckedReal(key, element, minimum, maximum));
    }
    value = std::move(result);
  }

  /** Throws for the first key of the object that no field claimed. */
  void
  CheckNoUnknownKeys() const
  {
    for (auto it = m_Object.begin(); it != m_Object.end(); ++it)
    {
      if (m_Known.count(it.key()) == 0)
      {
        std::string known;
        for (const auto & key : m_KnownInOrder)
        {
          known += (known.empty() ? "" : ", ") + key;
        }
        throw ParameterError(m_Context + ": unknown key '" + ShortenForMessage(it.key()) + "' (allowed keys: " + known + ")");
      }
    }
  }

private:
  const nlohmann::json *
  Find(const char * key)
  {
    m_Known.insert(key);
    m_KnownInOrder.emplace_back(key);
    auto it = m_Object.find(key);
    return it == m_Object.end() ? nullptr : &*it;
  }

  double
  CheckedReal(const char * key, const nlohmann::json & item, double minimum, double maximum) const
  {
    if (!item.is_number())
    {
      this->Fail(key, "expected a number, got " + JsonForMessage(item));
    }
    const double number = item.get<double>();
    if (!std::isfinite(number) || number < minimum || number > maximum)
    {
      this->Fail(key,
                 JsonForMessage(item) + " is out of range [" + FormatNumber(minimum) + ", " + FormatNumber(maximum) +
                   "]");
    }
    return number;
  }

  [[noreturn]] void
  Fail(const char * key, const std::string & what) const
  {
    throw ParameterError(m_Context + "." + key + ": " + what);
  }

  const nlohmann::json &   m_Object;
  std::string              m_Context;
  std::set<std::string>    m_Known;
  std::vector<std::string> m_KnownInOrder;
};

/** Writes every field into a JSON object; unset optional values are written as null. */
class JsonFieldWriter
{
public:
  explicit JsonFieldWriter(nlohmann::json & object)
    : m_Object(object)
  {
    m_Object = nlohmann::json::object();
  }
  void
  Integer(const char * key, const int & value, int, int, const char *)
  {
    m_Object[key] = value;
  }
  void
  Real(const char * key, const double & value, double, double, const char *)
  {
    m_Object[key] = value;
  }
  void
  OptionalReal(const char * key, const std::optional<double> & value, double, double, const char *)
  {
    m_Object[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  }
  void
  Boolean(const char * key, const bool & value, const char *)
  {
    m_Object[key] = value;
  }
  template <typename TEnum>
  void
  Choice(const char * key, const TEnum & value, const char *)
  {
    m_Object[key] = ToString(value);
  }
  void
  Text(const char * key, const std::string & value, const char *)
  {
    m_Object[key] = value;
  }
  void
  RealVector(const char * key,
             const std::vector<double> & value,
             double,
             double,
             const std::vector<std::size_t> &,
             const char *)
  {
    m_Object[key] = value;
  }

private:
  nlohmann::json & m_Object;
};

/** One field as documentation sees it. */
struct FieldDocumentation
{
  std::string key;
  std::string type;          ///< integer, real, optional real, boolean, choice, text, real list
  std::string defaultValue;  ///< JSON text of the default
  std::string allowed;       ///< range, choices or sizes
  std::string description;
};

/** Collects FieldDocumentation from a structure (defaults are its current values). */
class FieldDocumenter
{
public:
  std::vector<FieldDocumentation> fields;

  void
  Integer(const char * key, const int & value, int minimum, int maximum, const char * doc)
  {
    fields.push_back({ key, "integer", std::to_string(value), "[" + std::to_string(minimum) + ", " +
                                                                std::to_string(maximum) + "]", doc });
  }
  void
  Real(const char * key, const double & value, double minimum, double maximum, const char * doc)
  {
    fields.push_back({ key, "real", FormatNumber(value), Range(minimum, maximum), doc });
  }
  void
  OptionalReal(const char * key, const std::optional<double> & value, double minimum, double maximum, const char * doc)
  {
    fields.push_back(
      { key, "real or null", value ? FormatNumber(*value) : "null", Range(minimum, maximum), doc });
  }
  void
  Boolean(const char * key, const bool & value, const char * doc)
  {
    fields.push_back({ key, "boolean", value ? "true" : "false", "true, false", doc });
  }
  template <typename TEnum>
  void
  Choice(const char * key, const TEnum & value, const char * doc)
  {
    std::string choices;
    for (const auto & choice : ModeChoices<TEnum>())
    {
      choices += (choices.empty() ? "" : ", ") + choice;
    }
    fields.push_back({ key, "choice", ToString(value), choices, doc });
  }
  void
  Text(const char * key, const std::string & value, const char * doc)
  {
    fields.push_back({ key, "text", "\"" + value + "\"", "any", doc });
  }
  void
  RealVector(const char *                      key,
             const std::vector<double> &       value,
             double                            minimum,
             double                            maximum,
             const std::vector<std::size_t> & sizes,
             const char *                      doc)
  {
    std::string count;
    for (auto size : sizes)
    {
      count += (count.empty() ? "" : " or ") + std::to_string(size);
    }
    fields.push_back({ key,
                       "real list",
                       nlohmann::json(value).dump(),
                       (count.empty() ? std::string("any number") : count) + " of " + Range(minimum, maximum),
                       doc });
  }

private:
  static std::string
  Range(double minimum, double maximum)
  {
    return "[" + FormatNumber(minimum) + ", " + FormatNumber(maximum) + "]";
  }
};

/** The JSON object of a parameter structure. */
template <typename TParameters>
nlohmann::json
ToJson(const TParameters & parameters)
{
  nlohmann::json  object;
  JsonFieldWriter writer(object);
  TParameters::Visit(parameters, writer);
  return object;
}

/** Updates `parameters` from the keys present in `object`, then validates the result.
 * `context` prefixes messages (e.g. "preset 'brain-mri': synthesis"). */
template <typename TParameters>
void
UpdateFromJson(TParameters & parameters, const nlohmann::json & object, const std::string & context)
{
  TParameters     updated = parameters;
  JsonFieldReader reader(object, context);
  TParameters::Visit(updated, reader);
  reader.CheckNoUnknownKeys();
  try
  {
    updated.Validate();
  }
  catch (const ParameterError & error)
  {
    throw ParameterError(context + ": " + error.what());
  }
  parameters = std::move(updated);
}

/** A structure built from its defaults and the keys present in `object`. */
template <typename TParameters>
TParameters
FromJson(const nlohmann::json & object, const std::string & context)
{
  TParameters parameters;
  UpdateFromJson(parameters, object, context);
  return parameters;
}

/** The documentation of every field, defaults taken from a default-constructed structure. */
template <typename TParameters>
std::vector<FieldDocumentation>
DocumentFields()
{
  TParameters     parameters;
  FieldDocumenter documenter;
  TParameters::Visit(parameters, documenter);
  return documenter.fields;
}

/** A preset or model description (an object with "network" and "training" sections) with
 * the network's keys `dimension`, `width_multiplier` and `input_channels` in "network" only.
 *
 * Files written before nsa::NetworkParameters was their one home carry them in "training"
 * (presets) or in both sections (model files: NSATrain copied them both ways). A key found
 * in "training" is moved to "network"; when both sections hold it, the values must agree
 * and the copy in "training" is dropped. nsa::ParameterError, naming `context` and both
 * values, when they disagree. */
nlohmann::json
MigrateNetworkKeys(const nlohmann::json & object, const std::string & context);

} // namespace nsa

#endif
