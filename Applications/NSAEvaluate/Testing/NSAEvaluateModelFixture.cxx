// Writes an untrained, small NSA network (2D, width 1/8, fixed seed) for the model-driven
// end-to-end test of NSAEvaluate: its maps are arbitrary but deterministic, which is all the
// test needs (it compares the model run with an evaluation of the maps that run saved).
//
//   NSAEvaluateModelFixture <model file>

#include "nsaModel.h"

#include <filesystem>
#include <iostream>

int
main(int argc, char * argv[])
{
  if (argc != 2)
  {
    std::cerr << "usage: " << argv[0] << " <model file>\n";
    return 2;
  }
  try
  {
    std::filesystem::create_directories(std::filesystem::absolute(argv[1]).parent_path());
    nsa::ModelDescription description;
    description.network.dimension = 2;
    description.network.width_multiplier = 0.125;
    description.network.input_channels = 1;
    description.prediction.device = "cpu";
    const nsa::Model model(description, 7);
    model.Save(argv[1]);
    std::cout << "untrained model with " << model.ParameterCount() << " parameters written to " << argv[1] << '\n';
    return 0;
  }
  catch (const std::exception & e)
  {
    std::cerr << argv[0] << ": error: " << e.what() << '\n';
    return 1;
  }
}
