"""scikit-learn's 8×8 handwritten digits with an MLP, trained by gradkit's Trainer.

1,797 images; a stratified 20% is held out as the test set and 10% of the rest for
validation. Per-channel standardization fitted on the training images only; small random
rotations, shifts and zooms as augmentation; MLP 64 → 256 → 10 with ReLU and dropout 0.2;
SGD with Nesterov momentum, weight decay on the weights, one-cycle learning rate, 60 epochs.
Test accuracy 98.9% (seed 0). Runs in about 6 s on 2 cores.

    python examples/digits_mlp.py
    gradkit train --config examples/configs/mlp_digits.yaml        # the same run from the CLI
"""

import gradkit as gk
from gradkit import models, nn, optim
from gradkit.data import DataLoader, Standardize, datasets, train_val_split
from gradkit.data import transforms as T
from gradkit.train import Trainer, callbacks


def main(epochs=60, batch_size=32, lr=0.05, seed=0):
    gk.manual_seed(seed)
    digits = datasets.digits()                                   # x (1797, 1, 8, 8) in [0, 1]
    rest, test = train_val_split(digits, 0.2, seed=seed, stratify=True)
    train, val = train_val_split(rest, 0.1, seed=seed, stratify=True)
    x_train = train.get_batch(range(len(train)))[0]
    standardize = T.Lambda(Standardize().fit(x_train).transform)   # training statistics only
    augment = T.RandomAffine(10, translate=(0.125, 0.125), scale=(0.9, 1.1))
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, seed=seed,
                              transform=T.Compose([augment, standardize]))
    val_loader = DataLoader(val, batch_size=500, transform=standardize)
    test_loader = DataLoader(test, batch_size=500, transform=standardize)

    model = models.mlp(in_features=64, hidden=(256,), num_classes=10, dropout=0.2)
    opt = optim.SGD(nn.utils.param_groups_weight_decay(model, 5e-4), lr=lr, momentum=0.9,
                    nesterov=True)
    schedule = optim.lr_scheduler.OneCycleLR(opt, max_lr=lr,
                                             total_steps=epochs * len(train_loader))
    trainer = Trainer(model, opt, train_loader, val_loader=val_loader, scheduler=schedule,
                      scheduler_interval="step", max_epochs=epochs,
                      callbacks=[callbacks.ProgressBar()])
    trainer.fit()
    result = trainer.evaluate(test_loader)
    print(f"test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}, "
          f"{len(test)} images)")
    return result["accuracy"]


if __name__ == "__main__":
    main()
