#ifndef nsaDeviceName_h
#define nsaDeviceName_h

#include <string>

namespace nsa
{

/** Largest N of "cuda:N": LibTorch's device index (c10::DeviceIndex) is an 8-bit signed
 * integer. */
constexpr int MaximumCudaDeviceIndex = 127;

/** Checks a device string: auto, cpu, cuda or cuda:N with N from 0 to
 * MaximumCudaDeviceIndex, digit by digit (an N of any length is refused with a message, never
 * by std::stoi's bare "stoi"). `name` is how the message calls the setting: a program's flag
 * "--device"; the one-argument form (nsaParameters.h) says "device", the JSON key.
 * Throws ParameterError. */
void
ValidateDeviceName(const std::string & device, const std::string & name);

/** The CUDA device a device string names: N for "cuda:N", 0 for "cuda", -1 for "auto" and
 * "cpu". Validates first (ValidateDeviceName), so it never throws anything but
 * ParameterError. */
int
CudaDeviceIndex(const std::string & device);

} // namespace nsa

#endif
