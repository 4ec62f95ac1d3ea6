"""tnet_model.py: a small PyTorch network for tests/e2e/inspect.sh, the
torchvision way (conv, batch norm, one ReLU module called twice, pooling,
a linear head), so that tools/trace_torch.py meets a module called twice
and a batch norm to fold. tnet.rn and tnet_folded.rn are the same network
in rnc's language, named as `rnc --import` names an ONNX export's layers."""
import torch
import torch.nn as nn


class TNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.gap(self.pool(x))
        return self.fc(torch.flatten(x, 1))
