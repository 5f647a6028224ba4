"""Looking inside networks: every layer's activations, kernels, saliency, convolution by
hand for "How it works", and ResNet50 on photos with Grad-CAM. Reads models; never trains.
"""
