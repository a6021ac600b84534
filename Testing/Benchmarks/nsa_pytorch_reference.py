#!/usr/bin/env python3
"""The NSA paper's 2D network in PyTorch, for comparisons with the toolkit's LibTorch model.

Written for the NSA Toolkit from the published description of the paper's model
(resnet18_enc_dec: ResNet-18 encoder, 1x1 "network in network" 512->256->128, three transposed
residual blocks 64/32/16, bilinear x2, 7x7 stride-2 transposed convolution to one channel);
module names equal the paper's, so state dicts are interchangeable with the toolkit.

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


def channels(c, width):
    return max(1, int(round(c * width)))


class Block(nn.Module):
    """Residual block; transposed=True gives the decoder's upsampling block."""

    def __init__(self, cin, cout, stride, transposed):
        super().__init__()
        if transposed:
            self.conv1 = nn.ConvTranspose2d(cin, cout, 3, stride, 1, output_padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        shortcut = None
        if stride != 1 or cin != cout:
            if transposed:
                shortcut = nn.Sequential(nn.ConvTranspose2d(cin, cout, 1, stride, output_padding=stride - 1, bias=False),
                                         nn.BatchNorm2d(cout))
                self.upsample = shortcut
            else:
                shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                self.downsample = shortcut
        self.shortcut = [shortcut]  # a list keeps it out of the state dict a second time

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.shortcut[0] is None else self.shortcut[0](x)
        return torch.relu(out + identity)


class EncoderDecoder(nn.Module):
    def __init__(self, in_channels=1, width=1.0):
        super().__init__()
        c = lambda n: channels(n, width)
        self.conv1 = nn.Conv2d(in_channels, c(64), 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c(64))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = c(64)
        for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
            layer = nn.Sequential(Block(cin, c(planes), stride, False), Block(c(planes), c(planes), 1, False))
            setattr(self, "layer%d" % (i + 1), layer)
            cin = c(planes)
        self.nin = nn.Sequential(nn.Conv2d(c(512), c(256), 1, bias=False), nn.ReLU(inplace=True),
                                 nn.Conv2d(c(256), c(128), 1, bias=False), nn.ReLU(inplace=True))
        cin = c(128)
        for i, planes in enumerate([64, 32, 16]):
            setattr(self, "uplayer%d" % (i + 1), nn.Sequential(Block(cin, c(planes), 2, True)))
            cin = c(planes)
        self.upsample = nn.UpsamplingBilinear2d(scale_factor=2)
        self.convtranspose1 = nn.ConvTranspose2d(c(16), 1, 7, 2, 3, output_padding=1, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.nin(x)
        x = self.uplayer3(self.uplayer2(self.uplayer1(x)))
        return torch.sigmoid(self.convtranspose1(self.upsample(x)))


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
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = EncoderDecoder(args.channels, args.width)
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
