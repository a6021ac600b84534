// NSACompareModels: compares the weights and batch-norm statistics of two NSA model files
// tensor by tensor; for the data-parallel tests (a run of W ranks against one process).
//
//   NSACompareModels a.pt b.pt MAX_DIFFERENCE [MEAN_DIFFERENCE]
//
// Prints the largest absolute difference of any element (and the tensor it is in) and the
// mean absolute difference over all elements; exits 0 when the largest is at most
// MAX_DIFFERENCE (0: bit-identical) and the mean at most MEAN_DIFFERENCE (default: no
// limit), 1 otherwise, 2 on bad input.

#include "nsaModelImpl.h"

#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>

int
main(int argc, char * argv[])
{
  if (argc != 4 && argc != 5)
  {
    std::cerr << "usage: NSACompareModels a.pt b.pt MAX_DIFFERENCE [MEAN_DIFFERENCE]" << std::endl;
    return 2;
  }
  try
  {
    const double tolerance = std::stod(argv[3]);
    const double meanTolerance = argc == 5 ? std::stod(argv[4]) : std::numeric_limits<double>::infinity();
    auto         a = nsa::ReadModelFile(argv[1]);
    auto         b = nsa::ReadModelFile(argv[2]);
    std::map<std::string, at::Tensor> other;
    for (const auto & item : b->network->named_parameters())
    {
      other[item.key()] = item.value();
    }
    for (const auto & item : b->network->named_buffers())
    {
      other[item.key()] = item.value();
    }
    double      largest = 0.0;
    std::string where;
    std::size_t count = 0;
    double      sum = 0.0;
    double      elements = 0.0;
    const auto  compare = [&](const std::string & name, const at::Tensor & tensor) {
      const auto it = other.find(name);
      if (it == other.end() || it->second.sizes() != tensor.sizes())
      {
        throw std::runtime_error("tensor '" + name + "' is missing or has another shape in " + argv[2]);
      }
      const at::Tensor differences = (tensor.to(at::kDouble) - it->second.to(at::kDouble)).abs();
      const double     difference = differences.numel() > 0 ? differences.max().item<double>() : 0.0;
      sum += differences.sum().item<double>();
      elements += static_cast<double>(differences.numel());
      if (difference > largest || where.empty())
      {
        largest = difference;
        where = name;
      }
      ++count;
    };
    for (const auto & item : a->network->named_parameters())
    {
      compare(item.key(), item.value());
    }
    for (const auto & item : a->network->named_buffers())
    {
      compare(item.key(), item.value());
    }
    const double mean = sum / std::max(elements, 1.0);
    std::cout << count << " tensors; largest absolute difference " << largest << " (" << where << "), limit "
              << tolerance << "; mean absolute difference " << mean << ", limit " << meanTolerance << std::endl;
    return largest <= tolerance && mean <= meanTolerance ? 0 : 1;
  }
  catch (const std::exception & error)
  {
    std::cerr << "NSACompareModels: error: " << nsa::UserMessage(error) << std::endl;
    return 2;
  }
}
