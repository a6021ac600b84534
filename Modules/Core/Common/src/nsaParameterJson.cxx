#include "nsaParameterJson.h"

namespace nsa
{

nlohmann::json
MigrateNetworkKeys(const nlohmann::json & object, const std::string & context)
{
  nlohmann::json migrated = object;
  if (!migrated.is_object() || !migrated.contains("training") || !migrated["training"].is_object())
  {
    return migrated;
  }
  nlohmann::json & training = migrated["training"];
  for (const char * key : { "dimension", "width_multiplier", "input_channels" })
  {
    if (!training.contains(key))
    {
      continue;
    }
    if (!migrated.contains("network") || !migrated["network"].is_object())
    {
      migrated["network"] = nlohmann::json::object();
    }
    nlohmann::json & network = migrated["network"];
    if (network.contains(key) && network[key] != training[key])
    {
      throw ParameterError(context + ": training." + key + " " + JsonForMessage(training[key]) +
                           " disagrees with network." + key + " " + JsonForMessage(network[key]) +
                           " (the network section is the one home of this key)");
    }
    network[key] = training[key];
    training.erase(key);
  }
  return migrated;
}

} // namespace nsa
