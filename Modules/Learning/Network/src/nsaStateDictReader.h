#ifndef nsaStateDictReader_h
#define nsaStateDictReader_h

// Internal header of the Learning module (includes ATen): only src/ and test/ include it.

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace nsa
{

/** Reads the named tensors of a PyTorch state dict file: Python's
 * `torch.save(model.state_dict(), path)` (an OrderedDict, zip format of PyTorch >= 1.6), a
 * training checkpoint dict holding one under "model_state_dict" or "state_dict", or a dict
 * of tensors written by `torch::pickle_save`. Tensors come back on the CPU in file order.
 * Throws nsa::InputError naming the file and the problem. */
std::vector<std::pair<std::string, at::Tensor>>
ReadStateDict(const std::string & path);

} // namespace nsa

#endif
