// The parameter structures' validators, the seeded streams and the percentile compile and link
// without nlohmann/json: this program is built from those sources alone with the JSON
// headers' include guards predefined, so any use of JSON in them fails the build. It is what
// the synthesis filters need from Core (the way to an ITK module, Documentation/Architecture.md).
#include "nsaError.h"
#include "nsaParameters.h"
#include "nsaPercentile.h"
#include "nsaRandom.h"

#include <iostream>
#include <string>
#include <vector>

int
main()
{
  nsa::SynthesisParameters synthesis;
  synthesis.Validate();
  synthesis.width_bounds = { 0.4, 0.1 };
  try
  {
    synthesis.Validate();
    std::cerr << "reversed width_bounds were accepted\n";
    return 1;
  }
  catch (const nsa::ParameterError & error)
  {
    const std::string expected = "width_bounds: low bound 0.4 is above high bound 0.1";
    if (std::string(error.what()).find(expected) == std::string::npos)
    {
      std::cerr << "unexpected message: " << error.what() << '\n';
      return 1;
    }
  }
  nsa::NormalisationParameters{}.Validate();
  std::vector<float> values{ 3.0f, 1.0f, 2.0f };
  nsa::RandomStream random(1, 0, 0, nsa::RandomPurpose::Synthesis);
  std::cout << "validated without JSON; median " << nsa::Percentile(values, 50.0, nsa::PercentileRule::Nearest)
            << ", a draw " << random.Uniform() << '\n';
  return 0;
}
