"""The article's CNN, with generated activations, trained on synthetic digits.

Two models: one with ``generated.relu`` and ``generated.log_softmax``, one with
``generated.linen.PReLU`` in place of relu. Each trains for a few hundred SGD
steps on 8x8 images of 10 noisy templates; the loss curve is printed, and
plotted to cnn_loss.png when matplotlib is installed.

Run, from the project root: ``python -m examples.cnn [--steps 300]``
(needs ``pip install symjvp[flax]``).
"""

import argparse
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

import generated
import generated.linen


class CNN(nn.Module):
    """Conv, activation, average pool, twice; then Dense, activation, Dense, log_softmax."""

    activation: Callable[[], Callable] = lambda: generated.relu  # a new one per use
    log_softmax: Callable = generated.log_softmax
    classes: int = 10

    @nn.compact
    def __call__(self, x):
        for features in (16, 32):
            x = nn.Conv(features=features, kernel_size=(3, 3))(x)
            x = self.activation()(x)
            x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
        x = x.reshape((x.shape[0], -1))
        x = self.activation()(nn.Dense(features=64)(x))
        return self.log_softmax(nn.Dense(features=self.classes)(x))


def dataset(key, count: int = 512, classes: int = 10):
    """Images of shape (count, 8, 8, 1): one random template per class, plus noise."""
    template_key, label_key, noise_key = jax.random.split(key, 3)
    templates = jax.random.normal(template_key, (classes, 8, 8, 1))
    labels = jax.random.randint(label_key, (count,), 0, classes)
    images = templates[labels] + 0.8 * jax.random.normal(noise_key, (count, 8, 8, 1))
    return images, labels


def loss(model, params, images, labels):
    log_probabilities = model.apply(params, images)
    return -jnp.take_along_axis(log_probabilities, labels[:, None], axis=1).mean()


def train(model, params, images, labels, steps: int, learning_rate: float = 0.05):
    """SGD with momentum; returns the final parameters and the loss at each step."""
    optimizer = optax.sgd(learning_rate, momentum=0.9)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(lambda p: loss(model, p, images, labels))(params)
        updates, state = optimizer.update(grads, state)
        return optax.apply_updates(params, updates), state, value

    losses = []
    for _ in range(steps):
        params, state, value = step(params, state)
        losses.append(float(value))
    return params, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    images, labels = dataset(jax.random.key(0))
    models = {"relu": CNN(), "PReLU": CNN(activation=generated.linen.PReLU)}
    curves = {}
    for name, model in models.items():
        params = model.init(jax.random.key(1), images[:1])
        _, curves[name] = train(model, params, images, labels, args.steps)
        every = max(1, args.steps // 10)
        print(name, " ".join(f"{v:.3f}" for v in curves[name][::every]), f"{curves[name][-1]:.3f}")
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    for name, curve in curves.items():
        plt.plot(curve, label=name)
    plt.xlabel("step")
    plt.ylabel("loss")
    plt.legend()
    plt.savefig("cnn_loss.png", dpi=100)


if __name__ == "__main__":
    main()
