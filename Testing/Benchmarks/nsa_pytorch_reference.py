#!/usr/bin/env python3
"""The NSA paper's 2D network in PyTorch, for comparisons with the toolkit's LibTorch model.

The network is the Python package's maintained definition (nsatoolkit.torch.NSANetwork,
Wrapping/Python/nsatoolkit/torch.py); module names equal the paper's, so state dicts are
interchangeable with the toolkit. Run with the package importable, e.g.
PYTHONPATH=build/python /usr/bin/python3 Testing/Benchmarks/nsa_pytorch_reference.py ...

  nsa_pytorch_reference.py count [--channels C]
      prints the number of parameters and of parameter tensors
  nsa_pytorch_reference.py export OUT.pt INPUT.raw OUTPUT.raw [CHECKPOINT.pt] [--width W] [--size H W]
      writes a state dict (torch.save), a float32 input [1, C, H, W] and the model's
      output on it in eval mode (float32), for the cross-check test of the C++ import;
      optionally a training checkpoint dict after one Adam step
  nsa_pytorch_reference.py benchmark [--width W] [--channels C] [--size S] [--batch B]
                                      [--threads T] [--steps N]
      seconds per training step (Adam, BCE), wall and process CPU time (all threads), the
      medians of N steps after 2 warm-up steps
"""
import argparse
import statistics
import sys
import time

import torch
from torch import nn

from nsatoolkit.torch import NSANetwork


def EncoderDecoder(in_channels=1, width=1.0, final_relu=True):
    """The toolkit's network in PyTorch, from the package (nsatoolkit.torch), 2D, sigmoid."""
    return NSANetwork({"dimension": 2, "width_multiplier": width, "input_channels": in_channels,
                       "final_relu": final_relu})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["count", "export", "benchmark"])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--size", type=int, nargs="+", default=[128])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no_final_relu", action="store_true",
                        help="network.final_relu false: the decoder's last block without its ReLU")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = EncoderDecoder(args.channels, args.width, not args.no_final_relu)
    size = args.size if len(args.size) == 2 else args.size * 2

    if args.command == "count":
        params = list(model.parameters())
        print(sum(p.numel() for p in params), len(params))
    elif args.command == "export":
        state_path, input_path, output_path = args.paths[:3]
        # Non-trivial running statistics: a few training-mode passes.
        with torch.no_grad():
            for _ in range(3):
                model(torch.rand(2, args.channels, *size))
        model.eval()
        torch.save(model.state_dict(), state_path)
        x = torch.rand(1, args.channels, *size)
        with torch.no_grad():
            y = model(x)
        x.numpy().astype("float32").tofile(input_path)
        y.numpy().astype("float32").tofile(output_path)
        if len(args.paths) > 3:
            # A training checkpoint as the paper's code writes it, with Adam's state.
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            model.train()
            nn.BCELoss()(model(torch.rand(2, args.channels, *size)), torch.rand(2, 1, *size)).backward()
            optimizer.step()
            model.eval()
            torch.save({"epoch": 0, "model_state_dict": model.state_dict(),
                        "optimizer_state_dict": optimizer.state_dict(), "scheduler_state_dict": None},
                       args.paths[3])
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_function = nn.BCELoss()
        x = torch.rand(args.batch, args.channels, *size)
        y = (torch.rand(args.batch, 1, *size) > 0.9).float()
        times = []
        cpu_times = []
        for step in range(args.steps + 2):
            start = time.perf_counter()
            cpu_start = time.process_time()
            optimizer.zero_grad()
            loss = loss_function(model(x), y)
            loss.backward()
            optimizer.step()
            if step >= 2:
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
        print("pytorch %s threads=%d width=%g channels=%d size=%dx%d batch=%d: median %.4f s/step wall, "
              "%.4f s/step process CPU, %.2f samples/s"
              % (torch.__version__, torch.get_num_threads(), args.width, args.channels, size[0], size[1], args.batch,
                 statistics.median(times), statistics.median(cpu_times), args.batch / statistics.median(times)))


if __name__ == "__main__":
    sys.exit(main())
